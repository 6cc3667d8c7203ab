// Dashboard: equity, PnL, positions and open orders across every wallet.
import { useEffect, useState } from "preact/hooks";
import { api, type Account, type OpenOrder, type TradeSummary, type Wallet } from "../api";
import { ErrorText, Panel, Stat, useLoad } from "../components/ui";
import { loadMarkets, refreshWallets } from "../data";
import * as fmt from "../format";
import { on } from "../live";
import { OrdersTable, PositionsTable } from "./trade";

interface WalletState {
  wallet: Wallet;
  account: Account | null;
  orders: OpenOrder[];
  error: unknown;
}

async function loadAll(): Promise<{ rows: WalletState[]; summary: TradeSummary }> {
  loadMarkets().catch(() => undefined);
  const [list, summary] = await Promise.all([refreshWallets(), api.tradeSummary({})]);
  const rows = await Promise.all(
    list.map(async (wallet) => {
      try {
        const [account, orders] = await Promise.all([api.account(wallet.id), api.openOrders(wallet.id)]);
        return { wallet, account, orders, error: null };
      } catch (error) {
        return { wallet, account: null, orders: [], error };
      }
    }),
  );
  return { rows, summary };
}

function sum(values: string[]): string {
  // Cents are enough for a headline total; each addend is rounded exactly first.
  let cents = 0n;
  for (const v of values) cents += BigInt(fmt.usd(v).replace(/[$,.]/g, ""));
  const negative = cents < 0n;
  const abs = (negative ? -cents : cents).toString().padStart(3, "0");
  return `${negative ? "-" : ""}${abs.slice(0, -2)}.${abs.slice(-2)}`;
}

export function Dashboard() {
  const { data, error, reload } = useLoad(loadAll, []);
  const [, setTick] = useState(0);
  useEffect(() => on("fills", () => (reload(), setTick((t) => t + 1))), []);
  const rows = data?.rows ?? [];
  const accounts = rows.filter((r) => r.account) as (WalletState & { account: Account })[];
  const equity = sum(accounts.map((r) => r.account.account_value));
  const unrealized = sum(accounts.flatMap((r) => r.account.positions.map((p) => p.unrealized_pnl)));
  return (
    <div class="stack">
      <h1>Dashboard</h1>
      <ErrorText error={error} />
      {data && rows.length === 0 ? (
        <p class="notice">
          No wallets yet. <a href="/wallets">Add a wallet</a> to start trading.
        </p>
      ) : null}
      <div class="stats">
        <Stat label="Equity" value={fmt.usd(equity)} testid="equity" />
        <Stat label="Unrealized PnL" value={fmt.usd(unrealized)} tone={fmt.tone(unrealized)} />
        <Stat
          label="Realized PnL (net of fees)"
          value={fmt.usd(data?.summary.net_pnl)}
          tone={fmt.tone(data?.summary.net_pnl)}
        />
        <Stat label="Trades" value={String(data?.summary.trades ?? "—")} />
      </div>
      <Panel title="Positions">
        {accounts.every((r) => r.account.positions.length === 0) ? <p>No open positions.</p> : null}
        {accounts
          .filter((r) => r.account.positions.length)
          .map((r) => (
            <PositionsTable key={r.wallet.id} account={r.account} label={r.wallet.label} />
          ))}
      </Panel>
      <Panel title="Open orders">
        <OrdersTable
          orders={rows.flatMap((r) => r.orders.map((o) => ({ ...o, wallet: r.wallet.label })))}
          walletLabel={(o) => (o as OpenOrder & { wallet: string }).wallet}
        />
      </Panel>
      {rows
        .filter((r) => r.error)
        .map((r) => (
          <p key={r.wallet.id} class="error">
            {r.wallet.label}: <ErrorText error={r.error} />
          </p>
        ))}
    </div>
  );
}
