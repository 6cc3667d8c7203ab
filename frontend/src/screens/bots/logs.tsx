// The bot's log: the newest page from the server, older pages on demand, and every new line as
// it arrives on /api/ws (`bot_logs` frames come to the owner without subscribing).
import { useEffect, useState } from "preact/hooks";
import { ErrorText, useAction } from "../../components/ui";
import { on } from "../../live";
import { botApi, type BotLogNews, type LogLine } from "./api";

const MAX_LIVE_LINES = 2000;

export function BotLogs({ botId }: { botId: number }) {
  const [live, setLive] = useState<LogLine[]>([]);
  const [stored, setStored] = useState<LogLine[]>([]);
  const [cursor, setCursor] = useState<number | null>(null);
  const page = useAction();

  useEffect(() => {
    setLive([]);
    setStored([]);
    let count = 0;
    // Listen first, then load: a line written in between is shown once (below).
    const off = on("bot_logs", (news: BotLogNews) => {
      if (news.bot_id !== botId) return;
      count += 1;
      const line = { key: `live${count}`, time: news.time, level: news.level, message: news.message };
      setLive((old) => [line, ...old].slice(0, MAX_LIVE_LINES));
    });
    page.run(async () => {
      const first = await botApi.logs(botId);
      setStored(first.lines);
      setCursor(first.next);
      const newest = first.lines[0]?.time ?? 0;
      setLive((old) => old.filter((l) => l.time > newest));
    });
    return off;
  }, [botId]);

  const older = () =>
    page.run(async () => {
      const next = await botApi.logs(botId, cursor);
      setStored((old) => [...old, ...next.lines]);
      setCursor(next.next);
    });

  const lines = [...live, ...stored];
  return (
    <section class="panel" aria-labelledby="bot-logs-title">
      <h2 id="bot-logs-title">Logs</h2>
      <ErrorText error={page.error} />
      {lines.length === 0 && !page.busy ? <p>No log lines yet.</p> : null}
      <div class="log-lines" role="log" data-testid="bot-logs" tabIndex={0} aria-label="Log lines, newest first">
        <ol>
        {lines.map((l) => (
          <li key={l.key} class={`log-${l.level}`}>
            <time dateTime={new Date(l.time).toISOString()}>{new Date(l.time).toLocaleTimeString(undefined, { hour12: false })}</time>{" "}
            <span class="log-level">{l.level}</span> <span class="log-message">{l.message}</span>
          </li>
        ))}
        </ol>
      </div>
      {cursor ? (
        <button type="button" onClick={older} disabled={page.busy}>
          Load older lines
        </button>
      ) : null}
    </section>
  );
}
