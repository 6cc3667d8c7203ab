// The REST client: one place that adds the token, turns error bodies into ApiError, and ends
// the session on 401. Types mirror the API's JSON (decimals are exact strings).
import { endSession, session } from "./session";
import { describeError } from "./errors";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly serverMessage: string,
    readonly fields: { field: string; message: string }[] = [],
    /** An order refusal's field and the nearest valid value of it, when the server offers one. */
    readonly nearest: { field: string; value: string } | null = null,
  ) {
    super(describeError(code, serverMessage));
  }
}

type Query = Record<string, string | number | boolean | null | undefined>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export async function request(
  method: string,
  path: string,
  body?: unknown,
  query?: Query,
): Promise<Response> {
  const headers: Record<string, string> = {};
  const current = session.get();
  if (current) headers.Authorization = `Bearer ${current.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(withQuery(`/api${path}`, query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "NETWORK", "network error");
  }
  if (response.ok) return response;
  let code = "ERROR";
  let message = response.statusText;
  let fields: { field: string; message: string }[] = [];
  let nearest: { field: string; value: string } | null = null;
  try {
    const detail = (await response.json()).detail;
    if (detail && typeof detail === "object") {
      code = String(detail.code ?? code);
      message = String(detail.message ?? message);
      if (Array.isArray(detail.errors)) fields = detail.errors;
      if (typeof detail.field === "string" && typeof detail.nearest === "string") {
        nearest = { field: detail.field, value: detail.nearest };
      }
    }
  } catch {
    /* not JSON: keep the status text */
  }
  if (response.status === 401 && current) {
    endSession(describeError(code, message));
  }
  throw new ApiError(response.status, code, message, fields, nearest);
}

async function json<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
  const response = await request(method, path, body, query);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

// -- shapes ------------------------------------------------------------------------------------

export interface Health {
  status: string;
  network: string;
  database: string;
  sandbox: string;
  exchange_url: string;
}
export interface Wallet {
  id: number;
  label: string;
  address: string;
  account_address: string;
  is_agent: boolean;
  verified: boolean;
  verification_error: string | null;
  created_at: string;
  warnings: string[];
}
export interface Position {
  coin: string;
  size: string;
  entry_price: string | null;
  unrealized_pnl: string;
  leverage: number;
  leverage_type: string;
  liquidation_price: string | null;
  margin_used: string;
  position_value: string;
}
export interface Account {
  address: string;
  account_value: string;
  withdrawable: string;
  margin_used: string;
  total_notional: string;
  positions: Position[];
  spot_balances: { coin: string; total: string; hold: string }[];
  stream_mode: string | null;
}
export interface Market {
  coin: string;
  sz_decimals: number;
  max_leverage: number;
  mid: string | null;
}
export interface Level {
  price: string;
  size: string;
}
export interface Book {
  coin: string;
  bids: Level[];
  asks: Level[];
  time: number;
}
export interface Print {
  time: number;
  side: "buy" | "sell";
  price: string;
  size: string;
  tid: number;
}
export interface Candle {
  time: number;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
}
export interface OpenOrder {
  coin: string;
  side: string;
  price: string;
  size: string;
  orig_size: string;
  oid: number;
  reduce_only: boolean;
  order_type: string;
  is_trigger?: boolean;
  trigger_price?: string | null;
  time: number;
  bot_id: number | null;
}
export interface OrderIn {
  wallet_id: number;
  coin: string;
  side: "buy" | "sell";
  type: "limit" | "market";
  size: string;
  price?: string;
  tif?: "Gtc" | "Ioc" | "Alo";
  reduce_only?: boolean;
  trigger_price?: string;
  trigger_kind?: "tp" | "sl";
}
export interface OrderModify {
  price?: string;
  size?: string;
}
export interface OrderResult {
  status: string;
  oid: number | null;
  filled_size: string;
  avg_price: string | null;
}
export interface Trade {
  id: number;
  wallet_id: number;
  bot_id: number | null;
  source: string;
  coin: string;
  side: string;
  price: string;
  size: string;
  fee: string;
  closed_pnl: string;
  direction: string;
  time: number;
  tid: number;
  oid: number;
}
export interface TradePage {
  items: Trade[];
  next_cursor: number | null;
}
export interface TradeSummary {
  trades: number;
  volume: string;
  fees: string;
  realized_pnl: string;
  net_pnl: string;
}
export interface TradeFilter {
  wallet_id?: number | string;
  bot_id?: number | string;
  coin?: string;
  start?: number;
  end?: number;
}

// -- routes ------------------------------------------------------------------------------------

export const api = {
  health: () => json<Health>("GET", "/health"),
  register: (username: string, password: string) =>
    json<{ id: number; username: string }>("POST", "/auth/register", { username, password }),
  login: (username: string, password: string) =>
    json<{ access_token: string; expires_in: number }>("POST", "/auth/login", {
      username,
      password,
    }),
  changePassword: (current_password: string, new_password: string) =>
    json<void>("POST", "/auth/password", { current_password, new_password }),

  wallets: () => json<Wallet[]>("GET", "/wallets"),
  createWallet: (body: { label: string; private_key?: string; account_address?: string }) =>
    json<Wallet>("POST", "/wallets", body),
  verifyWallet: (id: number) => json<Wallet>("POST", `/wallets/${id}/verify`),
  deleteWallet: (id: number) => json<void>("DELETE", `/wallets/${id}`),
  account: (id: number) => json<Account>("GET", `/wallets/${id}/account`),
  faucet: (id: number, amount: string) => json<Account>("POST", `/wallets/${id}/faucet`, { amount }),
  setLeverage: (id: number, coin: string, leverage: number, cross = true) =>
    json<void>("POST", `/wallets/${id}/leverage`, { coin, leverage, cross }),

  markets: () => json<Market[]>("GET", "/markets"),
  book: (coin: string) => json<Book>("GET", `/markets/${encodeURIComponent(coin)}/book`),
  prints: (coin: string) => json<Print[]>("GET", `/markets/${encodeURIComponent(coin)}/trades`),
  candles: (coin: string, interval: string) =>
    json<Candle[]>("GET", `/markets/${encodeURIComponent(coin)}/candles`, undefined, { interval }),

  openOrders: (walletId: number) =>
    json<OpenOrder[]>("GET", "/orders", undefined, { wallet_id: walletId }),
  placeOrder: (order: OrderIn) => json<OrderResult>("POST", "/orders", order),
  modifyOrder: (walletId: number, oid: number, change: OrderModify) =>
    json<OrderResult>("PATCH", `/orders/${oid}`, { wallet_id: walletId, ...change }),
  cancelOrder: (walletId: number, oid: number) =>
    json<void>("DELETE", `/orders/${oid}`, undefined, { wallet_id: walletId }),

  trades: (filter: TradeFilter, cursor?: number | null, limit = 50) =>
    json<TradePage>("GET", "/trades", undefined, { ...filter, cursor, limit }),
  tradeSummary: (filter: TradeFilter) =>
    json<TradeSummary>("GET", "/trades/summary", undefined, { ...filter }),
  tradesCsv: (filter: TradeFilter) => request("GET", "/trades.csv", undefined, { ...filter }),
};
