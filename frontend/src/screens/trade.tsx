// Trade: pick a market, watch its chart, book and prints, place orders, manage open orders and
// positions of one wallet.
import { useEffect, useMemo, useState } from "preact/hooks";
import { api, type Account, type Book, type Market, type OpenOrder, type Print } from "../api";
import { CandleChart } from "../components/chart";
import { ErrorText, Field, Panel, useAction, useLoad, WalletPicker } from "../components/ui";
import { loadMarkets, markets as marketStore, refreshWallets, wallets as walletStore } from "../data";
import * as fmt from "../format";
import { follow, on } from "../live";
import { checkOrder, type Problem } from "../orderCheck";
import { navigate, queryParam } from "../router";
import { useStore } from "../store";

const INTERVALS = ["1m", "5m", "15m", "1h", "4h", "1d"];

export function Trade() {
  useLoad(refreshWallets, []);
  const marketsLoad = useLoad(loadMarkets, []);
  const walletList = useStore(walletStore) ?? [];
  const marketList = useStore(marketStore) ?? [];
  const [coin, setCoin] = useState(queryParam("coin") ?? "ETH");
  const [interval, setInterval] = useState("1m");
  const [walletId, setWalletId] = useState<number | null>(
    queryParam("wallet") ? Number(queryParam("wallet")) : null,
  );
  const [chartError, setChartError] = useState<unknown>(null);
  const [changed, setChanged] = useState(0); // bumps after an order, a cancel or a fill
  const market = marketList.find((m) => m.coin === coin) ?? null;

  useEffect(() => {
    if (walletId === null && walletList.length) setWalletId(walletList[0].id);
  }, [walletList, walletId]);

  const [liveMid, setLiveMid] = useState<string | null>(null);
  useEffect(() => {
    setLiveMid(null);
    const stop = follow("mids");
    const off = on("mids", (data) => {
      const value = data?.mids?.[coin];
      if (typeof value === "string") setLiveMid(value);
    });
    return () => (off(), stop());
  }, [coin]);

  useEffect(() => {
    const bump = () => setChanged((n) => n + 1);
    const offFills = on("fills", bump);
    const offOrders = on("orders", bump);
    return () => (offFills(), offOrders());
  }, []);

  return (
    <div class="trade">
      <div class="trade-bar">
        <h1 class="sr-only">Trade</h1>
        <select
          aria-label="Market"
          value={coin}
          onChange={(e) => {
            const next = (e.target as HTMLSelectElement).value;
            setCoin(next);
            navigate(`/trade?coin=${encodeURIComponent(next)}`, true);
          }}
        >
          {marketList.map((m) => (
            <option key={m.coin} value={m.coin}>
              {m.coin}-PERP
            </option>
          ))}
        </select>
        <span class="mid" data-testid="mid">
          {fmt.price(liveMid ?? market?.mid)}
        </span>
        <div class="intervals" role="group" aria-label="Candle interval">
          {INTERVALS.map((i) => (
            <button
              type="button"
              key={i}
              class={i === interval ? "active" : ""}
              aria-pressed={i === interval}
              onClick={() => setInterval(i)}
            >
              {i}
            </button>
          ))}
        </div>
        {walletList.length ? (
          <WalletPicker wallets={walletList} value={walletId} onChange={setWalletId} />
        ) : (
          <a href="/wallets">Add a wallet to trade</a>
        )}
      </div>
      <ErrorText error={marketsLoad.error ?? chartError} />
      <div class="trade-grid">
        <div class="trade-main">
          <section class="panel chart-panel" aria-label="Chart">
            <CandleChart coin={coin} interval={interval} onError={setChartError} />
          </section>
          {walletId !== null ? (
            <>
              <Positions walletId={walletId} changed={changed} onChanged={() => setChanged((n) => n + 1)} />
              <OpenOrders walletId={walletId} changed={changed} onChanged={() => setChanged((n) => n + 1)} />
            </>
          ) : null}
        </div>
        <div class="trade-side">
          {walletId !== null && market ? (
            <OrderForm
              walletId={walletId}
              market={market}
              onPlaced={() => setChanged((n) => n + 1)}
            />
          ) : null}
          <BookPanel coin={coin} market={market} />
          <PrintsPanel coin={coin} market={market} />
        </div>
      </div>
    </div>
  );
}

function fromLive(data: any): Book | null {
  if (!data || !Array.isArray(data.levels)) return null;
  const side = (levels: any[]) =>
    levels.map((l) => ({ price: String(l.px), size: String(l.sz) }));
  return { coin: data.coin, bids: side(data.levels[0] ?? []), asks: side(data.levels[1] ?? []), time: data.time };
}

function BookPanel({ coin, market }: { coin: string; market: Market | null }) {
  const { data, error, setData } = useLoad(() => api.book(coin), [coin]);
  useEffect(() => {
    const stop = follow(`book:${coin}`);
    const off = on("book", (raw) => {
      const book = fromLive(raw);
      if (book && book.coin === coin) setData(book);
    });
    return () => (off(), stop());
  }, [coin]);
  const depth = 10;
  const sz = (s: string) => (market ? fmt.size(s, market.sz_decimals) : s);
  return (
    <Panel title="Order book" class="book-panel">
      <ErrorText error={error} />
      {data ? (
        <table class="book" data-testid="book">
          <thead>
            <tr>
              <th>Price</th>
              <th>Size</th>
            </tr>
          </thead>
          <tbody>
            {data.asks.slice(0, depth).reverse().map((l) => (
              <tr key={`a${l.price}`} class="ask">
                <td>{fmt.price(l.price)}</td>
                <td>{sz(l.size)}</td>
              </tr>
            ))}
            {data.bids.slice(0, depth).map((l) => (
              <tr key={`b${l.price}`} class="bid">
                <td>{fmt.price(l.price)}</td>
                <td>{sz(l.size)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </Panel>
  );
}

function PrintsPanel({ coin, market }: { coin: string; market: Market | null }) {
  const [prints, setPrints] = useState<Print[]>([]);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let live = true;
    const load = () =>
      api.prints(coin).then(
        (p) => live && (setPrints(p), setError(null)),
        (e) => live && setError(e),
      );
    load();
    const timer = window.setInterval(load, 3_000);
    return () => {
      live = false;
      window.clearInterval(timer);
    };
  }, [coin]);
  return (
    <Panel title="Recent trades" class="prints-panel">
      <ErrorText error={error} />
      <table class="prints">
        <thead>
          <tr>
            <th>Price</th>
            <th>Size</th>
            <th>Time</th>
          </tr>
        </thead>
        <tbody>
          {prints.slice(0, 20).map((p) => (
            <tr key={p.tid} class={p.side === "buy" ? "bid" : "ask"}>
              <td>{fmt.price(p.price)}</td>
              <td>{market ? fmt.size(p.size, market.sz_decimals) : p.size}</td>
              <td>{new Date(p.time).toLocaleTimeString(undefined, { hour12: false })}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Panel>
  );
}

function OrderForm(props: { walletId: number; market: Market; onPlaced: () => void }) {
  const { market } = props;
  const [side, setSide] = useState<"buy" | "sell">("buy");
  const [type, setType] = useState<"limit" | "market">("limit");
  const [tif, setTif] = useState<"Gtc" | "Ioc" | "Alo">("Gtc");
  const [size, setSize] = useState("");
  const [price, setPrice] = useState("");
  const [reduceOnly, setReduceOnly] = useState(false);
  const [leverage, setLeverage] = useState("5");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const { busy, error, run } = useAction();
  const lev = useAction();

  const submit = (e: Event) => {
    e.preventDefault();
    setResult(null);
    const found = checkOrder({ type, size, price, reduceOnly }, market.sz_decimals, market.mid);
    setProblem(found);
    if (found) return;
    run(async () => {
      const placed = await api.placeOrder({
        wallet_id: props.walletId,
        coin: market.coin,
        side,
        type,
        size: size.trim(),
        ...(type === "limit" ? { price: price.trim(), tif } : {}),
        reduce_only: reduceOnly,
      });
      const filled = placed.avg_price
        ? `, ${fmt.size(placed.filled_size, market.sz_decimals)} filled at ${fmt.price(placed.avg_price)}`
        : "";
      setResult(`Order ${placed.status.replace("_", " ")}${filled}.`);
      props.onPlaced();
    });
  };

  return (
    <Panel title="Place an order" class="order-panel">
      <form onSubmit={submit} noValidate>
        <div class="segmented" role="group" aria-label="Side">
          <button type="button" class={side === "buy" ? "active buy" : ""} aria-pressed={side === "buy"} onClick={() => setSide("buy")}>
            Buy / long
          </button>
          <button type="button" class={side === "sell" ? "active sell" : ""} aria-pressed={side === "sell"} onClick={() => setSide("sell")}>
            Sell / short
          </button>
        </div>
        <div class="row">
          <Field label="Type">
            <select name="type" value={type} onChange={(e) => setType((e.target as HTMLSelectElement).value as "limit" | "market")}>
              <option value="limit">Limit</option>
              <option value="market">Market</option>
            </select>
          </Field>
          {type === "limit" ? (
            <Field label="Time in force">
              <select name="tif" value={tif} onChange={(e) => setTif((e.target as HTMLSelectElement).value as "Gtc" | "Ioc" | "Alo")}>
                <option value="Gtc">Good till cancel</option>
                <option value="Ioc">Immediate or cancel</option>
                <option value="Alo">Post only (Alo)</option>
              </select>
            </Field>
          ) : null}
        </div>
        <Field label={`Size (${market.coin})`} hint={`Up to ${market.sz_decimals} decimals`}>
          <input
            name="size"
            inputMode="decimal"
            autocomplete="off"
            aria-invalid={problem?.field === "size"}
            value={size}
            onInput={(e) => setSize(e.currentTarget.value)}
          />
        </Field>
        {type === "limit" ? (
          <Field label="Price (USD)">
            <input
              name="price"
              inputMode="decimal"
              autocomplete="off"
              aria-invalid={problem?.field === "price"}
              value={price}
              onInput={(e) => setPrice(e.currentTarget.value)}
            />
          </Field>
        ) : null}
        <label class="check">
          <input type="checkbox" name="reduce_only" checked={reduceOnly} onChange={(e) => setReduceOnly(e.currentTarget.checked)} />
          Reduce only
        </label>
        {problem ? (
          <p class="error" role="alert" data-code={problem.code}>
            {problem.message}
          </p>
        ) : null}
        <ErrorText error={error} />
        {result ? (
          <p class="notice" role="status" data-testid="order-result">
            {result}
          </p>
        ) : null}
        <button type="submit" class={side} disabled={busy}>
          {side === "buy" ? "Buy" : "Sell"} {market.coin}
        </button>
      </form>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          lev.run(() => api.setLeverage(props.walletId, market.coin, Number(leverage)));
        }}
      >
        <Field label={`Leverage (max ${market.max_leverage}×)`}>
          <input
            name="leverage"
            type="number"
            min={1}
            max={market.max_leverage}
            value={leverage}
            onInput={(e) => setLeverage(e.currentTarget.value)}
          />
        </Field>
        <button type="submit" disabled={lev.busy}>
          Set leverage
        </button>
      </form>
      <ErrorText error={lev.error} />
    </Panel>
  );
}

function OpenOrders(props: { walletId: number; changed: number; onChanged: () => void }) {
  const { data, error } = useLoad(() => api.openOrders(props.walletId), [props.walletId, props.changed]);
  const cancel = useAction();
  return (
    <Panel title="Open orders" class="orders-panel">
      <ErrorText error={error ?? cancel.error} />
      <OrdersTable
        orders={data ?? []}
        busy={cancel.busy}
        onCancel={(o) =>
          cancel.run(async () => (await api.cancelOrder(props.walletId, o.oid), props.onChanged()))
        }
      />
    </Panel>
  );
}

export function OrdersTable(props: {
  orders: OpenOrder[];
  busy?: boolean;
  onCancel?: (o: OpenOrder) => void;
  walletLabel?: (o: OpenOrder) => string;
}) {
  const marketList = useStore(marketStore) ?? [];
  const decimalsOf = useMemo(
    () => new Map(marketList.map((m) => [m.coin, m.sz_decimals])),
    [marketList],
  );
  if (!props.orders.length) return <p>No open orders.</p>;
  return (
    <div class="scroll">
      <table data-testid="open-orders">
        <thead>
          <tr>
            {props.walletLabel ? <th>Wallet</th> : null}
            <th>Coin</th>
            <th>Side</th>
            <th>Price</th>
            <th>Size</th>
            <th>Type</th>
            {props.onCancel ? <th><span class="sr-only">Actions</span></th> : null}
          </tr>
        </thead>
        <tbody>
          {props.orders.map((o) => (
            <tr key={o.oid}>
              {props.walletLabel ? <td>{props.walletLabel(o)}</td> : null}
              <td>{o.coin}</td>
              <td class={o.side === "buy" ? "pos" : "neg"}>{o.side}</td>
              <td>{fmt.price(o.price)}</td>
              <td>{fmt.size(o.size, decimalsOf.get(o.coin) ?? 4)}</td>
              <td>
                {o.order_type}
                {o.reduce_only ? " · reduce only" : ""}
              </td>
              {props.onCancel ? (
                <td>
                  <button type="button" disabled={props.busy} onClick={() => props.onCancel!(o)}>
                    Cancel
                  </button>
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Positions(props: { walletId: number; changed: number; onChanged: () => void }) {
  const { data, error } = useLoad<Account>(() => api.account(props.walletId), [props.walletId, props.changed]);
  const close = useAction();
  return (
    <Panel title="Positions" class="positions-panel">
      <ErrorText error={error ?? close.error} />
      {data ? (
        <PositionsTable
          account={data}
          busy={close.busy}
          onClose={(coin, size) =>
            close.run(async () => {
              const long = !size.startsWith("-");
              await api.placeOrder({
                wallet_id: props.walletId,
                coin,
                side: long ? "sell" : "buy",
                type: "market",
                size: size.replace("-", ""),
                reduce_only: true,
              });
              props.onChanged();
            })
          }
        />
      ) : null}
    </Panel>
  );
}

export function PositionsTable(props: {
  account: Account;
  busy?: boolean;
  onClose?: (coin: string, size: string) => void;
  label?: string;
}) {
  const positions = props.account.positions;
  if (!positions.length) return <p>No open positions.</p>;
  return (
    <div class="scroll">
      <table data-testid="positions">
        <thead>
          <tr>
            {props.label ? <th>Wallet</th> : null}
            <th>Coin</th>
            <th>Size</th>
            <th>Entry</th>
            <th>PnL</th>
            <th>Lev.</th>
            <th>Liq.</th>
            {props.onClose ? <th><span class="sr-only">Actions</span></th> : null}
          </tr>
        </thead>
        <tbody>
          {positions.map((p) => (
            <tr key={p.coin}>
              {props.label ? <td>{props.label}</td> : null}
              <td>{p.coin}</td>
              <td class={fmt.tone(p.size)}>{p.size}</td>
              <td>{fmt.price(p.entry_price)}</td>
              <td class={fmt.tone(p.unrealized_pnl)}>{fmt.usd(p.unrealized_pnl)}</td>
              <td>{p.leverage}×</td>
              <td>{fmt.price(p.liquidation_price)}</td>
              {props.onClose ? (
                <td>
                  <button type="button" disabled={props.busy} onClick={() => props.onClose!(p.coin, p.size)}>
                    Close
                  </button>
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
