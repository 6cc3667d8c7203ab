// Data several screens share, loaded once and refreshed on demand.
import { api, type Health, type Market, type Wallet } from "./api";
import { session } from "./session";
import { store } from "./store";

export const health = store<Health | null>(null);
export const wallets = store<Wallet[] | null>(null);
export const markets = store<Market[] | null>(null);

export async function loadHealth(): Promise<void> {
  try {
    health.set(await api.health());
  } catch {
    /* the shell shows no banner; screens report their own errors */
  }
}

export async function refreshWallets(): Promise<Wallet[]> {
  const list = await api.wallets();
  wallets.set(list);
  return list;
}

export async function loadMarkets(): Promise<Market[]> {
  const known = markets.get();
  if (known) return known;
  const list = await api.markets();
  markets.set(list);
  return list;
}

session.subscribe((current) => {
  if (!current) wallets.set(null);
});
