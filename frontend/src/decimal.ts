// Exact decimal strings for what the screens check and show: no float ever decides whether an
// order is valid or how an amount is written.

export interface Dec {
  digits: bigint; // value = digits / 10^scale
  scale: number;
}

const NUMBER = /^\d+(\.\d+)?$|^\.\d+$|^\d+\.$/;

export function parseDec(text: string): Dec | null {
  const t = text.trim();
  if (!NUMBER.test(t)) return null;
  const [whole, frac = ""] = t.split(".");
  return { digits: BigInt((whole || "0") + frac), scale: frac.length };
}

export function decimals(text: string): number {
  const frac = text.trim().split(".")[1] ?? "";
  return frac.replace(/0+$/, "").length;
}

/** Significant figures of a positive decimal string, trailing zeros of the fraction ignored. */
export function significantFigures(text: string): number {
  const [whole, frac = ""] = text.trim().split(".");
  const head = whole.replace(/^0+/, "");
  const tail = frac.replace(/0+$/, "");
  return head ? head.length + tail.length : tail.replace(/^0+/, "").length;
}

export function isZero(d: Dec): boolean {
  return d.digits === 0n;
}

export function multiply(a: Dec, b: Dec): Dec {
  return { digits: a.digits * b.digits, scale: a.scale + b.scale };
}

export function compare(a: Dec, b: Dec): number {
  const scale = Math.max(a.scale, b.scale);
  const x = a.digits * 10n ** BigInt(scale - a.scale);
  const y = b.digits * 10n ** BigInt(scale - b.scale);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** `text` (a possibly signed decimal string) rounded half-up to `places`, exactly. */
export function round(text: string, places: number): string {
  let t = text.trim();
  const negative = t.startsWith("-");
  if (negative || t.startsWith("+")) t = t.slice(1);
  const d = parseDec(t);
  if (!d) return text;
  let digits = d.digits;
  if (d.scale > places) {
    const cut = 10n ** BigInt(d.scale - places);
    digits = (digits + cut / 2n) / cut;
  } else {
    digits *= 10n ** BigInt(places - d.scale);
  }
  let s = digits.toString().padStart(places + 1, "0");
  if (places > 0) s = `${s.slice(0, -places)}.${s.slice(-places)}`;
  return (negative && digits !== 0n ? "-" : "") + s;
}

export function isNegative(text: string): boolean {
  return text.trim().startsWith("-") && /[1-9]/.test(text);
}
