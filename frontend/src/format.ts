// How numbers and times are written: sizes with the market's sz_decimals, USD with cents,
// prices as the exchange gave them (already on the tick grid). Exact: strings in, strings out.
import { isNegative, round } from "./decimal";

export function size(value: string, szDecimals: number): string {
  return round(value, szDecimals);
}

export function usd(value: string | null | undefined): string {
  if (value === null || value === undefined || value === "") return "—";
  const rounded = round(value, 2);
  const negative = rounded.startsWith("-");
  const [whole, frac] = rounded.replace("-", "").split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${negative ? "-" : ""}$${grouped}.${frac}`;
}

export function price(value: string | null | undefined): string {
  if (value === null || value === undefined || value === "") return "—";
  const [whole, frac] = value.split(".");
  return frac ? `${whole}.${frac.replace(/0+$/, "") || "0"}`.replace(/\.0$/, "") : whole;
}

/** "pos" / "neg" / "" : the CSS class for a signed amount. */
export function tone(value: string | null | undefined): string {
  if (!value) return "";
  if (isNegative(value)) return "neg";
  return /[1-9]/.test(value) ? "pos" : "";
}

export function time(ms: number): string {
  return new Date(ms).toLocaleString(undefined, { hour12: false });
}

export function shortAddress(address: string): string {
  return address.length > 12 ? `${address.slice(0, 6)}…${address.slice(-4)}` : address;
}
