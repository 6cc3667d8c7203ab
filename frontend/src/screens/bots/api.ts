// The bot routes of the REST API (api.md: bots) and the shapes they answer with. Decimals are
// exact strings; log times arrive as ISO text from REST and as milliseconds on /api/ws, and are
// kept as milliseconds here.
import { request, type TradePage } from "../../api";

export type RestartPolicy = "permanent" | "transient" | "temporary";
export type BotStatus = "stopped" | "starting" | "running" | "backoff" | "failed";

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  description?: string;
  title?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  [key: string]: unknown;
}

export interface BotCapital {
  allocation: string;
  leverage: string;
  limit: string;
  used: string;
  available: string;
  realized_pnl: string;
  unrealized_pnl: string;
  fees: string;
  equity: string;
}

export interface Bot {
  id: number;
  name: string;
  wallet_id: number;
  input_schema: JsonSchema;
  config: Record<string, unknown>;
  capital: string;
  leverage: string;
  restart_policy: RestartPolicy;
  tick_seconds: string;
  keep_orders_on_stop: boolean;
  version: number;
  desired_state: string;
  status: BotStatus | string;
  restarts: number;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  code: string | null;
  pid: number | null;
  uptime_seconds: number | null;
  capital_status: BotCapital | null;
}

/** What the create and edit forms send. */
export interface BotDraft {
  name: string;
  code: string;
  input_schema: JsonSchema;
  config: Record<string, unknown>;
  wallet_id: number;
  capital: string;
  leverage: string;
  restart_policy: RestartPolicy;
  tick_seconds: string;
  keep_orders_on_stop: boolean;
}

export interface BotExample {
  name: string;
  title: string;
  description: string;
  code: string;
  input_schema: JsonSchema;
  config: Record<string, unknown>;
}

export interface LogLine {
  key: string;
  time: number;
  level: string;
  message: string;
}

/** A `bot_status` frame of /api/ws. */
export interface BotStatusNews {
  bot_id: number;
  status: string;
  desired_state: string;
  restarts: number;
  last_error: string | null;
}

/** A `bot_logs` frame of /api/ws. */
export interface BotLogNews {
  bot_id: number;
  level: string;
  message: string;
  time: number;
}

/** The server's times are UTC; one without a zone (SQLite drops it) is read as UTC too. */
function isoMs(text: string): number {
  return Date.parse(/(Z|[+-]\d\d:?\d\d)$/.test(text) ? text : `${text}Z`);
}

interface LogPage {
  items: { id: number; run_id: number | null; time: string; level: string; message: string }[];
  next_cursor: number | null;
}

async function json<T>(method: string, path: string, body?: unknown, query?: Record<string, number | null | undefined>): Promise<T> {
  const response = await request(method, path, body, query);
  return response.status === 204 ? (undefined as T) : ((await response.json()) as T);
}

export const botApi = {
  list: () => json<Bot[]>("GET", "/bots"),
  get: (id: number) => json<Bot>("GET", `/bots/${id}`),
  examples: () => json<BotExample[]>("GET", "/bots/examples"),
  create: (draft: BotDraft) => json<Bot>("POST", "/bots", draft),
  update: (id: number, draft: Partial<BotDraft>) => json<Bot>("PATCH", `/bots/${id}`, draft),
  remove: (id: number) => json<void>("DELETE", `/bots/${id}`),
  start: (id: number) => json<Bot>("POST", `/bots/${id}/start`),
  stop: (id: number) => json<Bot>("POST", `/bots/${id}/stop`),
  restart: (id: number) => json<Bot>("POST", `/bots/${id}/restart`),
  trades: (id: number, cursor?: number | null) =>
    json<TradePage>("GET", `/bots/${id}/trades`, undefined, { cursor, limit: 500 }),
  async logs(id: number, cursor?: number | null): Promise<{ lines: LogLine[]; next: number | null }> {
    const page = await json<LogPage>("GET", `/bots/${id}/logs`, undefined, { cursor, limit: 200 });
    return {
      lines: page.items.map((l) => ({
        key: `db${l.id}`,
        time: isoMs(l.time),
        level: l.level,
        message: l.message,
      })),
      next: page.next_cursor,
    };
  },
};
