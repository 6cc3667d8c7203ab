// One bot: its live status, start/stop/restart, its capital book while it runs, its fills with
// the cumulative PnL chart, and its log.
import { useEffect, useState } from "preact/hooks";
import type { Trade } from "../../api";
import { TradesTable } from "../../components/tradesTable";
import { ErrorText, Stat, useAction } from "../../components/ui";
import { wallets as walletStore } from "../../data";
import * as fmt from "../../format";
import { on } from "../../live";
import { useStore } from "../../store";
import { botApi, type Bot, type BotStatusNews } from "./api";
import { BotLogs } from "./logs";
import { cumulativePnl, PnlChart } from "./pnl";
import { StatusTag } from "./status";

const REFRESH_MS = 3_000;

export function BotDetail(props: { botId: number; onEdit: (bot: Bot) => void; onDeleted: () => void }) {
  const [bot, setBot] = useState<Bot | null>(null);
  const [trades, setTrades] = useState<Trade[]>([]);
  const load = useAction();
  const act = useAction();
  const walletList = useStore(walletStore) ?? [];

  useEffect(() => {
    let live = true;
    const refresh = async () => {
      const [fresh, page] = await Promise.all([botApi.get(props.botId), botApi.trades(props.botId)]);
      if (!live) return;
      setBot(fresh);
      setTrades(page.items);
    };
    load.run(refresh);
    // The capital book and the fills change while the bot runs: read them again now and then.
    const timer = window.setInterval(() => {
      refresh().catch(() => undefined);
    }, REFRESH_MS);
    const off = on("bot_status", (news: BotStatusNews) => {
      if (news.bot_id !== props.botId) return;
      setBot((old) => (old ? { ...old, ...news, id: old.id } : old));
    });
    return () => {
      live = false;
      window.clearInterval(timer);
      off();
    };
  }, [props.botId]);

  if (!bot) {
    return (
      <section class="panel" aria-label="Bot">
        <ErrorText error={load.error} />
        {load.error ? null : <p>Loading…</p>}
      </section>
    );
  }

  const running = bot.desired_state === "running";
  const lifecycle = (action: (id: number) => Promise<Bot>) => act.run(async () => setBot(await action(bot.id)));
  const wallet = walletList.find((w) => w.id === bot.wallet_id);
  const points = cumulativePnl(trades);
  const capital = bot.capital_status;

  return (
    <div class="stack" data-testid="bot-detail">
      <section class="panel" aria-labelledby="bot-title">
        <div class="card-head">
          <h2 id="bot-title">{bot.name}</h2>
          <StatusTag status={bot.status} />
        </div>
        <dl class="facts">
          <dt>Wanted</dt>
          <dd>{bot.desired_state}</dd>
          <dt>Restarts</dt>
          <dd>{bot.restarts}</dd>
          <dt>Wallet</dt>
          <dd>{wallet?.label ?? `#${bot.wallet_id}`}</dd>
          <dt>Capital</dt>
          <dd>
            {fmt.usd(bot.capital)} at {bot.leverage}× leverage
          </dd>
          <dt>Tick</dt>
          <dd>every {bot.tick_seconds} s</dd>
          <dt>Restart policy</dt>
          <dd>{bot.restart_policy}</dd>
          <dt>On stop</dt>
          <dd>{bot.keep_orders_on_stop ? "keeps its resting orders" : "cancels its resting orders"}</dd>
          <dt>Version</dt>
          <dd>{bot.version}</dd>
          {bot.pid ? (
            <>
              <dt>Process</dt>
              <dd>
                pid {bot.pid}
                {bot.uptime_seconds !== null ? `, up ${Math.round(bot.uptime_seconds)} s` : ""}
              </dd>
            </>
          ) : null}
        </dl>
        {bot.last_error ? (
          <p class="error" data-testid="bot-last-error">
            Last error: {bot.last_error}
          </p>
        ) : null}
        <div class="actions">
          <button type="button" disabled={act.busy || running} onClick={() => lifecycle(botApi.start)}>
            Start
          </button>
          <button type="button" disabled={act.busy || !running} onClick={() => lifecycle(botApi.stop)}>
            Stop
          </button>
          <button type="button" disabled={act.busy || !running} onClick={() => lifecycle(botApi.restart)}>
            Restart
          </button>
          <button type="button" disabled={act.busy} onClick={() => props.onEdit(bot)}>
            Edit
          </button>
          <button
            type="button"
            disabled={act.busy || running}
            onClick={() => {
              if (confirm(`Delete the bot ${bot.name}? Its logs go with it; its trades stay in the history.`)) {
                act.run(async () => (await botApi.remove(bot.id), props.onDeleted()));
              }
            }}
          >
            Delete
          </button>
        </div>
        <ErrorText error={act.error} />
      </section>

      {capital ? (
        <div class="stats" data-testid="bot-capital" aria-label="Capital">
          <Stat label="Allocation" value={fmt.usd(capital.allocation)} />
          <Stat label="Limit" value={fmt.usd(capital.limit)} />
          <Stat label="Used" value={fmt.usd(capital.used)} />
          <Stat label="Available" value={fmt.usd(capital.available)} />
          <Stat label="Realized PnL" value={fmt.usd(capital.realized_pnl)} tone={fmt.tone(capital.realized_pnl)} />
          <Stat label="Unrealized PnL" value={fmt.usd(capital.unrealized_pnl)} tone={fmt.tone(capital.unrealized_pnl)} />
          <Stat label="Fees" value={fmt.usd(capital.fees)} />
          <Stat label="Equity" value={fmt.usd(capital.equity)} />
        </div>
      ) : null}

      <div class="columns">
        <section class="panel" aria-labelledby="bot-pnl-title">
          <h2 id="bot-pnl-title">
            Realized PnL after fees:{" "}
            <span class={fmt.tone(points.at(-1)?.total)} data-testid="bot-pnl">
              {fmt.usd(points.at(-1)?.total ?? "0")}
            </span>
          </h2>
          <PnlChart points={points} />
        </section>
        <BotLogs botId={bot.id} />
      </div>

      <section class="panel" aria-labelledby="bot-trades-title">
        <h2 id="bot-trades-title">Fills</h2>
        {trades.length === 0 ? <p>No fills yet.</p> : null}
        {trades.length ? <TradesTable trades={trades} testId="bot-trades" /> : null}
      </section>
    </div>
  );
}
