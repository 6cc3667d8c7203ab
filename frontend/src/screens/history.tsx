// History: every fill, by hand or by bot, filtered (wallet, coin, bot, time range), paged with
// the API's cursor, summarised, and downloadable as CSV.
import { useEffect, useState } from "preact/hooks";
import { api, type Trade, type TradeFilter, type TradeSummary } from "../api";
import { TradesTable } from "../components/tradesTable";
import { ErrorText, Field, Panel, Stat, useAction, WalletPicker } from "../components/ui";
import { refreshWallets, wallets as walletStore } from "../data";
import * as fmt from "../format";
import { useStore } from "../store";
import { botApi, type Bot } from "./bots/api";

const PAGE_SIZES = [10, 25, 50, 100, 200];

/** A datetime-local value (the browser's local time) as epoch ms; empty or junk is no bound. */
function localMs(value: string): number | undefined {
  if (!value) return undefined;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

export function History() {
  const walletList = useStore(walletStore) ?? [];
  const [walletId, setWalletId] = useState<number | null>(null);
  const [coin, setCoin] = useState("");
  const [botId, setBotId] = useState("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [pageSize, setPageSize] = useState(50);
  const [bots, setBots] = useState<Bot[]>([]);
  const [filter, setFilter] = useState<TradeFilter>({});
  const [items, setItems] = useState<Trade[]>([]);
  const [cursor, setCursor] = useState<number | null>(null);
  const [summary, setSummary] = useState<TradeSummary | null>(null);
  const page = useAction();
  const download = useAction();

  useEffect(() => {
    refreshWallets().catch(() => undefined);
    botApi.list().then(setBots, () => undefined);
  }, []);

  useEffect(() => {
    page.run(async () => {
      const [first, totals] = await Promise.all([api.trades(filter, null, pageSize), api.tradeSummary(filter)]);
      setItems(first.items);
      setCursor(first.next_cursor);
      setSummary(totals);
    });
  }, [filter, pageSize]);

  const more = () =>
    page.run(async () => {
      const next = await api.trades(filter, cursor, pageSize);
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
              bot_id: botId || undefined,
              start: localMs(from),
              // "To" names a minute: everything inside that minute counts.
              end: to && localMs(to) !== undefined ? localMs(to)! + 59_999 : undefined,
            });
          }}
        >
          <Field label="Wallet">
            <WalletPicker wallets={walletList} value={walletId} onChange={(id) => setWalletId(id || null)} allowAll />
          </Field>
          <Field label="Coin">
            <input name="coin" value={coin} maxLength={32} onInput={(e) => setCoin(e.currentTarget.value)} />
          </Field>
          <Field label="Bot">
            <select name="bot_id" value={botId} onChange={(e) => setBotId((e.target as HTMLSelectElement).value)}>
              <option value="">Any (manual and bots)</option>
              {bots.map((b) => (
                <option key={b.id} value={String(b.id)}>
                  {b.name} (#{b.id})
                </option>
              ))}
            </select>
          </Field>
          <Field label="From">
            <input name="from" type="datetime-local" value={from} onInput={(e) => setFrom(e.currentTarget.value)} />
          </Field>
          <Field label="To">
            <input name="to" type="datetime-local" value={to} onInput={(e) => setTo(e.currentTarget.value)} />
          </Field>
          <Field label="Per page">
            <select name="limit" value={String(pageSize)} onChange={(e) => setPageSize(Number((e.target as HTMLSelectElement).value))}>
              {PAGE_SIZES.map((n) => (
                <option key={n} value={String(n)}>
                  {n}
                </option>
              ))}
            </select>
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
          <Stat label="Trades" value={summary.trades} />
          <Stat label="Volume" value={fmt.usd(summary.volume)} />
          <Stat label="Fees" value={fmt.usd(summary.fees)} />
          <Stat label="Net PnL" value={fmt.usd(summary.net_pnl)} tone={fmt.tone(summary.net_pnl)} />
        </div>
      ) : null}
      <Panel title="Fills">
        <ErrorText error={page.error} />
        {items.length === 0 && !page.busy ? <p>No trades match.</p> : null}
        {items.length ? <TradesTable trades={items} testId="history" walletLabels={labels} /> : null}
        {items.length ? (
          <p role="status" data-testid="history-count">
            Showing {items.length}
            {summary ? ` of ${summary.trades}` : ""} fills{cursor ? "" : " — that is all of them"}.
          </p>
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
