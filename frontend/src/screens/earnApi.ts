// The vault and staking routes (api.md: vaults, staking) and their shapes. Amounts are exact
// decimal strings; lock-up ends are milliseconds since the epoch.
import { request } from "../api";

export interface VaultSummary {
  address: string;
  name: string;
  leader: string;
  apr: string | null;
  tvl: string | null;
  is_closed: boolean;
}
export interface VaultDetails extends VaultSummary {
  description: string;
  followers: number;
  leader_fraction: string | null;
  leader_commission: string | null;
  max_withdrawable: string | null;
  allow_deposits: boolean;
}
export interface VaultEquity {
  vault_address: string;
  equity: string;
  locked_until: number | null;
}
export interface Validator {
  validator: string;
  name: string;
  description: string;
  stake: string;
  commission: string;
  is_active: boolean;
  is_jailed: boolean;
}
export interface Staking {
  delegations: { validator: string; amount: string; locked_until: number | null }[];
  summary: {
    delegated: string;
    undelegated: string;
    total_pending_withdrawal: string;
    pending_withdrawals: number;
  };
}
export interface ActionResult {
  ok: boolean;
  action: string;
  detail: string;
}

async function json<T>(method: string, path: string, body?: unknown): Promise<T> {
  return (await (await request(method, path, body)).json()) as T;
}

export const earnApi = {
  vaults: () => json<VaultSummary[]>("GET", "/vaults"),
  vault: (address: string) => json<VaultDetails>("GET", `/vaults/${address}`),
  vaultTransfer: (address: string, kind: "deposit" | "withdraw", wallet_id: number, amount: string) =>
    json<ActionResult>("POST", `/vaults/${address}/${kind}`, { wallet_id, amount }),
  vaultEquities: (walletId: number) => json<VaultEquity[]>("GET", `/wallets/${walletId}/vaults`),
  validators: () => json<Validator[]>("GET", "/staking/validators"),
  staking: (walletId: number) => json<Staking>("GET", `/wallets/${walletId}/staking`),
  stake: (kind: "delegate" | "undelegate", wallet_id: number, validator: string, amount: string) =>
    json<ActionResult>("POST", `/staking/${kind}`, { wallet_id, validator, amount }),
};

/** A fraction as a percentage, exactly: "0.1234" → "12.34%". */
export function percent(fraction: string | null | undefined): string {
  if (fraction === null || fraction === undefined || fraction === "") return "—";
  const negative = fraction.startsWith("-");
  const [whole, frac = ""] = fraction.replace(/^[-+]/, "").split(".");
  const padded = frac.padEnd(2, "0");
  const int = `${whole}${padded.slice(0, 2)}`.replace(/^0+(?=\d)/, "");
  const rest = padded.slice(2, 4).replace(/0+$/, "");
  return `${negative ? "-" : ""}${int}${rest ? `.${rest}` : ""}%`;
}

/** When a lock-up ends, in words: "unlocked" once it has passed. */
export function unlockText(lockedUntil: number | null, now = Date.now()): string {
  if (!lockedUntil || lockedUntil <= now) return "unlocked";
  return `locked until ${new Date(lockedUntil).toLocaleString(undefined, { hour12: false })}`;
}
