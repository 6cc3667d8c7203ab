// Hyperliquid's price and size grid (hyperdesk/exchange/rules.py) in exact decimal strings, so
// the order form can offer the nearest valid value the server would accept. BigInt only: a float
// cannot tell 0.1 from 0.1000000001, and a suggested fix must itself pass the server's check.
import { decimals, parseDec, significantFigures, type Dec } from "../../decimal";

export const MAX_SIGNIFICANT_FIGURES = 5;
const PERP_MAX_DECIMALS = 6;

/** floor / ceil / half-even, for positive values (the only ones an order carries). */
export type Rounding = "floor" | "ceil" | "halfEven";

export function maxPriceDecimals(szDecimals: number): number {
  return Math.max(0, PERP_MAX_DECIMALS - szDecimals);
}

/** A decimal written plainly, trailing zeros of the fraction dropped. */
export function decText(d: Dec): string {
  let s = d.digits.toString();
  if (d.scale === 0) return s;
  s = s.padStart(d.scale + 1, "0");
  const whole = s.slice(0, -d.scale);
  const frac = s.slice(-d.scale).replace(/0+$/, "");
  return frac ? `${whole}.${frac}` : whole;
}

function quantize(d: Dec, places: number, mode: Rounding): Dec {
  if (d.scale <= places) return d;
  const cut = 10n ** BigInt(d.scale - places);
  let q = d.digits / cut;
  const r = d.digits % cut;
  if (mode === "ceil" && r > 0n) q += 1n;
  if (mode === "halfEven" && (2n * r > cut || (2n * r === cut && q % 2n === 1n))) q += 1n;
  return { digits: q, scale: places };
}

/** The power of ten of the leading digit (Python's Decimal.adjusted()). */
function adjusted(d: Dec): number {
  return d.digits.toString().length - 1 - d.scale;
}

export function isValidPrice(text: string, szDecimals: number): boolean {
  const d = parseDec(text);
  if (!d || d.digits === 0n) return false;
  if (decimals(text) === 0) return true; // integer prices are always on the grid
  return (
    decimals(text) <= maxPriceDecimals(szDecimals) &&
    significantFigures(text) <= MAX_SIGNIFICANT_FIGURES
  );
}

/** Decimal places of the price step around `d` (the grid is finer for smaller prices). */
function priceStepPlaces(d: Dec, szDecimals: number): number {
  return Math.max(0, Math.min(maxPriceDecimals(szDecimals), MAX_SIGNIFICANT_FIGURES - 1 - adjusted(d)));
}

/** The price step around `text` as a string, e.g. "0.1" for 3512.34 on ETH. */
export function priceStep(text: string, szDecimals: number): string {
  const d = parseDec(text);
  if (!d || d.digits === 0n) return "1";
  return decText({ digits: 1n, scale: priceStepPlaces(d, szDecimals) });
}

/** `text` moved onto the price grid; a bid rounds down (floor), an ask up (ceil). */
export function nearestPrice(text: string, szDecimals: number, mode: Rounding): string {
  const d = parseDec(text);
  if (!d || d.digits === 0n) return decText({ digits: 1n, scale: maxPriceDecimals(szDecimals) });
  let result = quantize(d, priceStepPlaces(d, szDecimals), mode);
  if (result.digits === 0n) result = { digits: 1n, scale: result.scale };
  // Rounding up may cross a power of ten (99999.5 -> 100000): one more pass on the new grid.
  if (!isValidPrice(decText(result), szDecimals)) {
    result = quantize(result, priceStepPlaces(result, szDecimals), mode);
  }
  return decText(result);
}

/** `text` truncated to the lot (never more than asked), or one lot if that leaves nothing. */
export function nearestSize(text: string, szDecimals: number): string {
  const d = parseDec(text);
  const down = d ? quantize(d, szDecimals, "floor") : { digits: 0n, scale: szDecimals };
  return decText(down.digits === 0n ? { digits: 1n, scale: szDecimals } : down);
}

/** The smallest size on the lot worth at least `minimum` at `price`. */
export function minimumSize(price: string, szDecimals: number, minimum: string): string {
  const p = parseDec(price);
  const m = parseDec(minimum);
  if (!p || !m || p.digits === 0n) return "0";
  // minimum / price in lots of 10^-szDecimals, rounded up, all in integers.
  const numerator = m.digits * 10n ** BigInt(p.scale + szDecimals);
  const denominator = p.digits * 10n ** BigInt(m.scale);
  const lots = (numerator + denominator - 1n) / denominator;
  return decText({ digits: lots, scale: szDecimals });
}

/** `price` moved by `percent` (buy: up, sell: down) and put back on the grid: the worst price a
 * triggered market order may fill at. */
export function slipped(price: string, percent: number, isBuy: boolean, szDecimals: number): string {
  const d = parseDec(price);
  if (!d) return price;
  const factor = BigInt(isBuy ? 100 + percent : 100 - percent);
  const moved = { digits: d.digits * factor, scale: d.scale + 2 };
  return nearestPrice(decText(moved), szDecimals, isBuy ? "floor" : "ceil");
}
