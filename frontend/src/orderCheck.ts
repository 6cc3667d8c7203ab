// The order form's own checks, mirroring the server's pre-trade gate
// (hyperdesk/exchange/validation.py) code for code, so most mistakes are caught before sending.
// The server stays the authority: it re-checks everything.
import { compare, decimals, isZero, multiply, parseDec, significantFigures } from "./decimal";

export const MIN_NOTIONAL = "10";
const PERP_MAX_DECIMALS = 6;
const MAX_SIGNIFICANT_FIGURES = 5;

export interface OrderDraft {
  type: "limit" | "market";
  size: string;
  price: string;
  reduceOnly: boolean;
}

export interface Problem {
  code: string;
  field: "size" | "price";
  message: string;
}

export function checkOrder(
  draft: OrderDraft,
  szDecimals: number,
  mid: string | null,
): Problem | null {
  const size = parseDec(draft.size);
  if (!size || isZero(size)) {
    return { code: "INVALID_NUMBER", field: "size", message: "Enter a size greater than zero." };
  }
  if (decimals(draft.size) > szDecimals) {
    return {
      code: "LOT_SIZE",
      field: "size",
      message: `This market takes sizes with at most ${szDecimals} decimals.`,
    };
  }
  let price = null;
  if (draft.type === "limit") {
    price = parseDec(draft.price);
    if (!price || isZero(price)) {
      return { code: "INVALID_NUMBER", field: "price", message: "A limit order needs a price." };
    }
    const places = Math.max(0, PERP_MAX_DECIMALS - szDecimals);
    const integral = decimals(draft.price) === 0;
    if (
      !integral &&
      (decimals(draft.price) > places || significantFigures(draft.price) > MAX_SIGNIFICANT_FIGURES)
    ) {
      return {
        code: "TICK_SIZE",
        field: "price",
        message: `Prices take at most ${MAX_SIGNIFICANT_FIGURES} significant figures and ${places} decimals here.`,
      };
    }
  }
  const valuePrice = price ?? (mid ? parseDec(mid) : null);
  if (!draft.reduceOnly && valuePrice) {
    if (compare(multiply(valuePrice, size), parseDec(MIN_NOTIONAL)!) < 0) {
      return {
        code: "MIN_NOTIONAL",
        field: "size",
        message: `The order must be worth at least $${MIN_NOTIONAL}.`,
      };
    }
  }
  return null;
}
