// History: every fill, by hand or by bot, filtered, paged with the API's cursor, summarised,
// and downloadable as CSV.
import { useEffect, useState } from "preact/hooks";
import { api, type Trade, type TradeFilter, type TradeSummary } from "../api";
import { ErrorText, Field, Panel, useAction, WalletPicker } from "../components/ui";
import { refreshWallets, wallets as walletStore } from "../data";
import * as fmt from "../format";
import { useStore } from "../store";

export function History() {
  const walletList = useStore(walletStore) ?? [];
  const [walletId, setWalletId] = useState<number | null>(null);
  const [coin, setCoin] = useState("");
  const [botId, setBotId] = useState("");
  const [filter, setFilter] = useState<TradeFilter>({});
  const [items, setItems] = useState<Trade[]>([]);
  const [cursor, setCursor] = useState<number | null>(null);
  const [summary, setSummary] = useState<TradeSummary | null>(null);
  const page = useAction();
  const download = useAction();

  useEffect(() => {
    refreshWallets().catch(() => undefined);
  }, []);

  useEffect(() => {
    page.run(async () => {
      const [first, totals] = await Promise.all([api.trades(filter), api.tradeSummary(filter)]);
      setItems(first.items);
      setCursor(first.next_cursor);
      setSummary(totals);
    });
  }, [filter]);

  const more = () =>
    page.run(async () => {
      const next = await api.trades(filter, cursor);
      setItems((old) => [...old, ...next.items]);
      setCursor(next.next_cursor);
    });

  const csv = () =>
    download.run(async () => {
      const response = await api.tradesCsv(filter);
      const url = URL.createObjectURL(await response.blob());
      const link = document.createElement("a");
      link.href = url;
      link.download = "hyperdesk-trades.csv";
      document.body.append(link);
      link.click();
      link.remove();
      window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
    });

  const labels = new Map(walletList.map((w) => [w.id, w.label]));
  return (
    <div class="stack">
      <h1>History</h1>
      <Panel title="Filters">
        <form
          class="row"
          onSubmit={(e) => {
            e.preventDefault();
            setFilter({
              wallet_id: walletId || undefined,
              coin: coin.trim() || undefined,
              bot_id: botId.trim() || undefined,
            });
          }}
        >
          <Field label="Wallet">
            <WalletPicker wallets={walletList} value={walletId} onChange={(id) => setWalletId(id || null)} allowAll />
          </Field>
          <Field label="Coin">
            <input name="coin" value={coin} maxLength={32} onInput={(e) => setCoin(e.currentTarget.value)} />
          </Field>
          <Field label="Bot id">
            <input name="bot_id" inputMode="numeric" value={botId} onInput={(e) => setBotId(e.currentTarget.value)} />
          </Field>
          <button type="submit">Apply</button>
          <button type="button" onClick={csv} disabled={download.busy}>
            Download CSV
          </button>
        </form>
        <ErrorText error={download.error} />
      </Panel>
      {summary ? (
        <div class="stats" data-testid="summary">
          <div class="stat">
            <span>Trades</span>
            <strong>{summary.trades}</strong>
          </div>
          <div class="stat">
            <span>Volume</span>
            <strong>{fmt.usd(summary.volume)}</strong>
          </div>
          <div class="stat">
            <span>Fees</span>
            <strong>{fmt.usd(summary.fees)}</strong>
          </div>
          <div class="stat">
            <span>Net PnL</span>
            <strong class={fmt.tone(summary.net_pnl)}>{fmt.usd(summary.net_pnl)}</strong>
          </div>
        </div>
      ) : null}
      <Panel title="Fills">
        <ErrorText error={page.error} />
        {items.length === 0 && !page.busy ? <p>No trades match.</p> : null}
        {items.length ? (
          <div class="scroll">
            <table data-testid="history">
              <thead>
                <tr>
                  <th>Time</th>
                  <th>Wallet</th>
                  <th>Source</th>
                  <th>Coin</th>
                  <th>Side</th>
                  <th>Price</th>
                  <th>Size</th>
                  <th>Fee</th>
                  <th>Closed PnL</th>
                </tr>
              </thead>
              <tbody>
                {items.map((t) => (
                  <tr key={t.id}>
                    <td>{fmt.time(t.time)}</td>
                    <td>{labels.get(t.wallet_id) ?? t.wallet_id}</td>
                    <td>{t.bot_id ? `bot ${t.bot_id}` : t.source}</td>
                    <td>{t.coin}</td>
                    <td class={t.side === "buy" ? "pos" : "neg"}>{t.side}</td>
                    <td>{fmt.price(t.price)}</td>
                    <td>{t.size}</td>
                    <td>{fmt.usd(t.fee)}</td>
                    <td class={fmt.tone(t.closed_pnl)}>{fmt.usd(t.closed_pnl)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
        {cursor ? (
          <button type="button" onClick={more} disabled={page.busy}>
            Load older trades
          </button>
        ) : null}
      </Panel>
    </div>
  );
}
