// Trade: pick a market, watch its chart, book and prints, place orders, manage open orders and
// positions of one wallet.
import { useEffect, useMemo, useState } from "preact/hooks";
import { api, type Account, type Book, type Market, type OpenOrder, type Print } from "../api";
import { CandleChart, type ChartFill } from "../components/chart";
import { ErrorText, Panel, useAction, useLoad, WalletPicker } from "../components/ui";
import { loadMarkets, markets as marketStore, refreshWallets, wallets as walletStore } from "../data";
import * as fmt from "../format";
import { follow, on } from "../live";
import { navigate, queryParam } from "../router";
import { useStore } from "../store";
import { OrderForm } from "./trade/orderForm";
import { OpenOrders } from "./trade/orders";

export { OrdersTable } from "./trade/orders";

const INTERVALS = ["1m", "5m", "15m", "1h", "4h", "1d"];
/** The latest fills of the chosen wallet and coin drawn on the chart (one page of the API). */
const CHART_FILLS = 200;

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

  // The wallet's open orders (table and chart lines) and its fills in this coin (chart markers),
  // reloaded after every change the user makes and every `orders` / `fills` frame.
  const ordersLoad = useLoad<OpenOrder[] | null>(
    () => (walletId === null ? Promise.resolve(null) : api.openOrders(walletId)),
    [walletId, changed],
  );
  const fillsLoad = useLoad<ChartFill[]>(
    async () =>
      walletId === null
        ? []
        : (await api.trades({ wallet_id: walletId, coin }, null, CHART_FILLS)).items,
    [walletId, coin, changed],
  );
  const chartOrders = useMemo(
    () =>
      (ordersLoad.data ?? [])
        .filter((o) => o.coin === coin)
        // A TP/SL waits at its trigger, not at the worst price it may fill at.
        .map((o) => (o.is_trigger && o.trigger_price ? { ...o, price: o.trigger_price, trigger: true } : o)),
    [ordersLoad.data, coin],
  );

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
      <ErrorText error={marketsLoad.error ?? chartError ?? fillsLoad.error} />
      <div class="trade-grid">
        <div class="trade-main">
          <section class="panel chart-panel" aria-label="Chart">
            <CandleChart
              coin={coin}
              interval={interval}
              onError={setChartError}
              fills={fillsLoad.data ?? []}
              orders={chartOrders}
            />
          </section>
          {walletId !== null ? (
            <>
              <Positions walletId={walletId} changed={changed} onChanged={() => setChanged((n) => n + 1)} />
              <OpenOrders
                walletId={walletId}
                orders={ordersLoad.data}
                error={ordersLoad.error}
                onChanged={() => setChanged((n) => n + 1)}
              />
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
      {/* Focusable so a keyboard can scroll it (the list is taller than its box on wide screens). */}
      <div class="prints-scroll" tabIndex={0} role="group" aria-label="Recent trades, newest first">
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
      </div>
    </Panel>
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
