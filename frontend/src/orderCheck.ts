// The order form's own checks, mirroring the server's pre-trade gate
// (hyperdesk/exchange/validation.py) code for code, and like it offering the nearest valid value,
// so a typo costs one click instead of a round trip. The server stays the authority: it re-checks
// everything. All grid math is exact decimal strings (screens/trade/grid.ts).
import { compare, decimals, isZero, multiply, parseDec } from "./decimal";
import {
  MAX_SIGNIFICANT_FIGURES,
  maxPriceDecimals,
  isValidPrice,
  minimumSize,
  nearestPrice,
  nearestSize,
  priceStep,
  slipped,
} from "./screens/trade/grid";

export const MIN_NOTIONAL = "10";
/** How far past its trigger a triggered (market) TP/SL may fill, in percent. */
export const TRIGGER_SLIPPAGE_PERCENT = 10;

export type OrderKind = "limit" | "market" | "tp" | "sl";
export type DraftField = "size" | "price" | "trigger";

export interface OrderDraft {
  kind: OrderKind;
  side: "buy" | "sell";
  size: string;
  price: string;
  triggerPrice: string;
  reduceOnly: boolean;
}

export interface Problem {
  code: string;
  field: DraftField;
  message: string;
  /** The nearest value of `field` the server would accept, offered as a one-click fix. */
  fix?: string;
}

/** The limit price a TP/SL is sent with: its trigger moved by the allowed slippage. */
export function triggerLimitPrice(draft: OrderDraft, szDecimals: number): string {
  return slipped(draft.triggerPrice.trim(), TRIGGER_SLIPPAGE_PERCENT, draft.side === "buy", szDecimals);
}

function tickProblem(field: DraftField, label: string, text: string, szDecimals: number, fix: string): Problem {
  return {
    code: "TICK_SIZE",
    field,
    message:
      `${label} must be a multiple of ${priceStep(text, szDecimals)} here ` +
      `(${MAX_SIGNIFICANT_FIGURES} significant figures, at most ${maxPriceDecimals(szDecimals)} decimals) — use ${fix}?`,
    fix,
  };
}

export function checkOrder(draft: OrderDraft, szDecimals: number, mid: string | null): Problem | null {
  const sizeText = draft.size.trim();
  const size = parseDec(sizeText);
  if (!size || isZero(size)) {
    return { code: "INVALID_NUMBER", field: "size", message: "Enter a size greater than zero." };
  }
  if (decimals(sizeText) > szDecimals) {
    const fix = nearestSize(sizeText, szDecimals);
    return {
      code: "LOT_SIZE",
      field: "size",
      message: `This market takes sizes with at most ${szDecimals} decimals — use ${fix}?`,
      fix,
    };
  }
  let priceText: string | null = null;
  if (draft.kind === "limit") {
    priceText = draft.price.trim();
    const price = parseDec(priceText);
    if (!price || isZero(price)) {
      return { code: "INVALID_NUMBER", field: "price", message: "A limit order needs a price." };
    }
    if (!isValidPrice(priceText, szDecimals)) {
      // Like the server: stay on the passive side, a bid rounds down and an ask up.
      const fix = nearestPrice(priceText, szDecimals, draft.side === "buy" ? "floor" : "ceil");
      return tickProblem("price", "Price", priceText, szDecimals, fix);
    }
  }
  if (draft.kind === "tp" || draft.kind === "sl") {
    const triggerText = draft.triggerPrice.trim();
    const trigger = parseDec(triggerText);
    if (!trigger || isZero(trigger)) {
      return { code: "INVALID_NUMBER", field: "trigger", message: "Enter the trigger price." };
    }
    if (!isValidPrice(triggerText, szDecimals)) {
      const fix = nearestPrice(triggerText, szDecimals, "halfEven");
      return tickProblem("trigger", "Trigger price", triggerText, szDecimals, fix);
    }
    priceText = triggerLimitPrice(draft, szDecimals);
  }
  const valuePrice = priceText ? parseDec(priceText) : mid ? parseDec(mid) : null;
  if (!draft.reduceOnly && valuePrice && !isZero(valuePrice)) {
    if (compare(multiply(valuePrice, size), parseDec(MIN_NOTIONAL)!) < 0) {
      const fix = minimumSize(priceText ?? mid!, szDecimals, MIN_NOTIONAL);
      return {
        code: "MIN_NOTIONAL",
        field: "size",
        message: `The order must be worth at least $${MIN_NOTIONAL} — use size ${fix}?`,
        fix,
      };
    }
  }
  return null;
}
