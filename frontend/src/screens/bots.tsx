// Bots: the list with each bot's live status, a new bot started from an example, and one bot's
// page (controls, capital, fills, PnL, logs). Which of them shows is in the query string
// (/bots?bot=3, /bots?new=1, /bots?edit=3), so the back button and links work.
import { useEffect, useState } from "preact/hooks";
import { ErrorText, useLoad } from "../components/ui";
import { refreshWallets, wallets as walletStore } from "../data";
import * as fmt from "../format";
import { on } from "../live";
import { currentPath, navigate } from "../router";
import { useStore } from "../store";
import { botApi, type Bot, type BotStatusNews } from "./bots/api";
import { BotDetail } from "./bots/detail";
import { BotEditor } from "./bots/editor";
import { StatusTag } from "./bots/status";
import "./bots/bots.css";

export function Bots() {
  const path = useStore(currentPath);
  const query = new URLSearchParams(path.split("?")[1] ?? "");
  const selected = Number(query.get("bot")) || null;
  const editId = Number(query.get("edit")) || null;
  const creating = query.get("new") === "1";
  const list = useLoad(botApi.list, [path]);
  const [editing, setEditing] = useState<Bot | null>(null);

  useEffect(() => {
    refreshWallets().catch(() => undefined);
    return on("bot_status", (news: BotStatusNews) =>
      list.setData((old) => old?.map((b) => (b.id === news.bot_id ? { ...b, ...news, id: b.id } : b)) ?? old),
    );
  }, []);

  useEffect(() => {
    if (editId === null) setEditing(null);
    else if (editing?.id !== editId) botApi.get(editId).then(setEditing, () => navigate(`/bots?bot=${editId}`, true));
  }, [editId]);

  return (
    <div class="stack">
      <div class="row">
        <h1>Bots</h1>
        {creating ? null : (
          <a class="button" href="/bots?new=1">
            New bot
          </a>
        )}
      </div>
      {creating ? (
        <BotEditor onSaved={(bot) => navigate(`/bots?bot=${bot.id}`)} onCancel={() => navigate("/bots")} />
      ) : null}
      {editing ? (
        <BotEditor
          key={editing.id}
          bot={editing}
          onSaved={(bot) => navigate(`/bots?bot=${bot.id}`)}
          onCancel={() => navigate(`/bots?bot=${editing.id}`)}
        />
      ) : null}
      {selected && !editId ? (
        <BotDetail
          key={selected}
          botId={selected}
          onEdit={(bot) => navigate(`/bots?edit=${bot.id}`)}
          onDeleted={() => navigate("/bots")}
        />
      ) : null}
      <BotList bots={list.data} error={list.error} selected={selected} />
    </div>
  );
}

function BotList(props: { bots: Bot[] | null; error: unknown; selected: number | null }) {
  const walletList = useStore(walletStore) ?? [];
  const labels = new Map(walletList.map((w) => [w.id, w.label]));
  return (
    <section class="panel" aria-labelledby="bot-list-title">
      <h2 id="bot-list-title">Bot list</h2>
      <ErrorText error={props.error} />
      {props.bots && props.bots.length === 0 ? (
        <p>
          No bots yet. <a href="/bots?new=1">Create one from an example</a>: a grid, a market maker or a trend
          follower.
        </p>
      ) : null}
      {props.bots?.length ? (
        <div class="scroll">
          <table data-testid="bot-list">
            <thead>
              <tr>
                <th>Name</th>
                <th>Status</th>
                <th>Wanted</th>
                <th>Restarts</th>
                <th>Wallet</th>
                <th>Capital</th>
                <th>Last error</th>
              </tr>
            </thead>
            <tbody>
              {props.bots.map((b) => (
                <tr key={b.id} data-bot-id={b.id} aria-current={b.id === props.selected ? "true" : undefined}>
                  <td>
                    <a href={`/bots?bot=${b.id}`}>{b.name}</a>
                  </td>
                  <td>
                    <StatusTag status={b.status} />
                  </td>
                  <td>{b.desired_state}</td>
                  <td>{b.restarts}</td>
                  <td>{labels.get(b.wallet_id) ?? `#${b.wallet_id}`}</td>
                  <td>{fmt.usd(b.capital)}</td>
                  <td class="wrap">{b.last_error ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
