// Words for every error code the API answers with (detail.code); the server's own message is
// the fallback for a code this table does not know yet.

const WORDS: Record<string, string> = {
  BAD_CREDENTIALS: "Wrong username or password.",
  USERNAME_TAKEN: "That username is taken; choose another.",
  LOGIN_THROTTLED: "Too many failed logins. Wait a little, then try again.",
  INVALID_TOKEN: "Your session has ended. Please log in again.",
  NOT_AUTHENTICATED: "Please log in.",
  PASSWORD_CHANGED: "Your password was changed. Please log in again.",
  VALIDATION_ERROR: "Some fields are not valid.",
  NOT_FOUND: "Not found.",
  FORBIDDEN: "You may not do that.",
  PAPER_ONLY: "The faucet exists only on the paper network.",
  RATE_LIMITED: "Too many requests. Wait a moment and try again.",
  SERVER_BUSY: "The server is busy. Try again in a moment.",
  DATABASE_UNAVAILABLE: "The database is unavailable. Try again shortly.",
  TOO_LARGE: "That request is too large.",
  INVALID_KEY: "That private key is not valid (64 hex digits, optionally starting with 0x).",
  INVALID_ADDRESS: "That address is not valid (0x followed by 40 hex digits).",
  WALLET_EXISTS: "You already have a wallet with that key.",
  WALLET_IN_USE: "This wallet is used by a bot; stop the bot first.",
  TOO_MANY_WALLETS: "You have reached the wallet limit.",
  FAUCET_NOT_AN_ACCOUNT: "An agent wallet cannot receive paper funds; use the account's own wallet.",
  UNKNOWN_COIN: "Unknown or delisted market.",
  TICK_SIZE: "The price is not on the market's tick grid.",
  LOT_SIZE: "The size has too many decimals for this market.",
  MIN_NOTIONAL: "The order is worth less than the $10 minimum.",
  INVALID_NUMBER: "Enter a positive number.",
  INVALID_ORDER: "The order is not valid.",
  INSUFFICIENT_MARGIN: "Not enough margin for this order.",
  INSUFFICIENT_BALANCE: "Not enough balance.",
  POST_ONLY_WOULD_MATCH: "A post-only (Alo) order would have matched immediately, so it was cancelled.",
  IOC_NO_MATCH: "The immediate-or-cancel order found nothing to match.",
  NO_LIQUIDITY: "There is not enough liquidity for this order.",
  NO_PRICE: "There is no price for this market yet.",
  REDUCE_ONLY: "A reduce-only order would increase the position.",
  PRICE_BAND: "The price is too far from the market.",
  OPEN_INTEREST_CAP: "The market is at its open interest cap.",
  POSITION_LIMIT: "The order exceeds the position limit.",
  ORDER_NOT_FOUND: "The order no longer exists (filled or cancelled).",
  TRIGGER_NOT_MODIFIABLE: "A take-profit or stop-loss order cannot be changed in place; cancel it and place it again.",
  ACCOUNT_NOT_FOUND: "The exchange does not know this account yet; fund it first.",
  NOT_PERMITTED: "The exchange does not allow this wallet to do that.",
  AGENT_REVOKED: "This agent wallet is no longer approved by its account.",
  EXCHANGE_TIMEOUT: "The exchange did not answer in time.",
  EXCHANGE_UNAVAILABLE: "The exchange cannot be reached.",
  EXCHANGE_ERROR: "The exchange refused the request.",
  STREAM_BUSY: "The live stream is at its limit; try again later.",
  TOO_MANY_SOCKETS: "Too many open tabs are following live data.",
  BAD_RANGE: "The start is after the end.",
  RANGE_TOO_LARGE: "That range is too large.",
  INTERNAL: "Something went wrong on the server.",
  NETWORK: "The server cannot be reached. Check your connection.",
};

export function describeError(code: string, message?: string): string {
  const words = WORDS[code];
  if (words && message && message !== words && !GENERIC.has(code)) return `${words} (${message})`;
  return words ?? message ?? code;
}

// Codes whose server message adds nothing the words above do not say.
const GENERIC = new Set([
  "BAD_CREDENTIALS",
  "NOT_AUTHENTICATED",
  "INVALID_TOKEN",
  "NETWORK",
  "NOT_FOUND",
  "USERNAME_TAKEN",
]);
