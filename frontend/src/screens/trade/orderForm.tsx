// Placing an order: limit, market, or a take-profit / stop-loss trigger (a market order that
// waits for the mark price to cross its trigger), checked locally first, plus the leverage form.
import { useState } from "preact/hooks";
import { api, type Market, type OrderIn } from "../../api";
import { ErrorText, Field, Panel, useAction } from "../../components/ui";
import * as fmt from "../../format";
import {
  checkOrder,
  triggerLimitPrice,
  TRIGGER_SLIPPAGE_PERCENT,
  type DraftField,
  type OrderKind,
  type Problem,
} from "../../orderCheck";
import { ProblemText, RefusalText } from "./problem";

type Tif = "Gtc" | "Ioc" | "Alo";

export function OrderForm(props: { walletId: number; market: Market; onPlaced: () => void }) {
  const { market } = props;
  const [side, setSide] = useState<"buy" | "sell">("buy");
  const [kind, setKind] = useState<OrderKind>("limit");
  const [tif, setTif] = useState<Tif>("Gtc");
  const [size, setSize] = useState("");
  const [price, setPrice] = useState("");
  const [trigger, setTrigger] = useState("");
  const [reduceOnly, setReduceOnly] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const { busy, error, run, setError } = useAction();
  const isTrigger = kind === "tp" || kind === "sl";

  const fix = (field: DraftField, value: string) => {
    if (field === "size") setSize(value);
    else if (field === "price") setPrice(value);
    else setTrigger(value);
    setProblem(null);
    setError(null);
  };

  const chooseKind = (next: OrderKind) => {
    setKind(next);
    setProblem(null);
    // A TP/SL usually protects a position: reduce-only unless the user says otherwise.
    if ((next === "tp" || next === "sl") !== isTrigger) setReduceOnly(next === "tp" || next === "sl");
  };

  const submit = (e: Event) => {
    e.preventDefault();
    setResult(null);
    const draft = { kind, side, size, price, triggerPrice: trigger, reduceOnly };
    const found = checkOrder(draft, market.sz_decimals, market.mid);
    setProblem(found);
    if (found) return;
    const order: OrderIn = {
      wallet_id: props.walletId,
      coin: market.coin,
      side,
      type: kind === "market" ? "market" : "limit",
      size: size.trim(),
      reduce_only: reduceOnly,
    };
    if (kind === "limit") Object.assign(order, { price: price.trim(), tif });
    if (isTrigger) {
      Object.assign(order, {
        price: triggerLimitPrice(draft, market.sz_decimals),
        tif: "Gtc",
        trigger_price: trigger.trim(),
        trigger_kind: kind,
      });
    }
    run(async () => {
      const placed = await api.placeOrder(order);
      const filled = placed.avg_price
        ? `, ${fmt.size(placed.filled_size, market.sz_decimals)} filled at ${fmt.price(placed.avg_price)}`
        : "";
      setResult(`Order ${placed.status.replace("_", " ")}${filled}.`);
      props.onPlaced();
    });
  };

  return (
    <Panel title="Place an order" class="order-panel">
      <form onSubmit={submit} noValidate>
        <div class="segmented" role="group" aria-label="Side">
          <button type="button" class={side === "buy" ? "active buy" : ""} aria-pressed={side === "buy"} onClick={() => setSide("buy")}>
            Buy / long
          </button>
          <button type="button" class={side === "sell" ? "active sell" : ""} aria-pressed={side === "sell"} onClick={() => setSide("sell")}>
            Sell / short
          </button>
        </div>
        <div class="row">
          <Field label="Type">
            <select name="type" value={kind} onChange={(e) => chooseKind((e.target as HTMLSelectElement).value as OrderKind)}>
              <option value="limit">Limit</option>
              <option value="market">Market</option>
              <option value="tp">Take profit</option>
              <option value="sl">Stop loss</option>
            </select>
          </Field>
          {kind === "limit" ? (
            <Field label="Time in force">
              <select name="tif" value={tif} onChange={(e) => setTif((e.target as HTMLSelectElement).value as Tif)}>
                <option value="Gtc">Good till cancel</option>
                <option value="Ioc">Immediate or cancel</option>
                <option value="Alo">Post only (Alo)</option>
              </select>
            </Field>
          ) : null}
        </div>
        <Field label={`Size (${market.coin})`} hint={`Up to ${market.sz_decimals} decimals`}>
          <DraftInput name="size" field="size" problem={problem} value={size} onInput={setSize} />
        </Field>
        {kind === "limit" ? (
          <Field label="Price (USD)">
            <DraftInput name="price" field="price" problem={problem} value={price} onInput={setPrice} />
          </Field>
        ) : null}
        {isTrigger ? (
          <Field
            label="Trigger price (USD)"
            hint={`A market order when the mark crosses it, filling at most ${TRIGGER_SLIPPAGE_PERCENT}% beyond`}
          >
            <DraftInput name="trigger_price" field="trigger" problem={problem} value={trigger} onInput={setTrigger} />
          </Field>
        ) : null}
        <label class="check">
          <input type="checkbox" name="reduce_only" checked={reduceOnly} onChange={(e) => setReduceOnly(e.currentTarget.checked)} />
          Reduce only
        </label>
        <ProblemText problem={problem} onFix={fix} />
        <RefusalText error={error} onFix={fix} />
        {result ? (
          <p class="notice" role="status" data-testid="order-result">
            {result}
          </p>
        ) : null}
        <button type="submit" class={side} disabled={busy}>
          {side === "buy" ? "Buy" : "Sell"} {market.coin}
        </button>
      </form>
      <LeverageForm walletId={props.walletId} market={market} />
    </Panel>
  );
}

function LeverageForm(props: { walletId: number; market: Market }) {
  const { market } = props;
  const [leverage, setLeverage] = useState("5");
  const [cross, setCross] = useState(true);
  const [done, setDone] = useState<string | null>(null);
  const [invalid, setInvalid] = useState<string | null>(null);
  const action = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    setDone(null);
    const value = leverage.trim();
    // The server takes a whole number from 1 to the market's maximum (LeverageIn, the exchange).
    if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > market.max_leverage) {
      setInvalid(`Leverage is a whole number from 1 to ${market.max_leverage}.`);
      return;
    }
    setInvalid(null);
    action.run(async () => {
      await api.setLeverage(props.walletId, market.coin, Number(value), cross);
      setDone(`${market.coin} leverage set to ${value}× ${cross ? "cross" : "isolated"}.`);
    });
  };
  return (
    <form class="inline" onSubmit={submit} noValidate>
      <Field label={`Leverage (max ${market.max_leverage}×)`}>
        <input
          name="leverage"
          type="number"
          min={1}
          max={market.max_leverage}
          aria-invalid={invalid !== null}
          value={leverage}
          onInput={(e) => setLeverage(e.currentTarget.value)}
        />
      </Field>
      <Field label="Margin">
        <select name="margin" value={cross ? "cross" : "isolated"} onChange={(e) => setCross((e.target as HTMLSelectElement).value === "cross")}>
          <option value="cross">Cross</option>
          <option value="isolated">Isolated</option>
        </select>
      </Field>
      <button type="submit" disabled={action.busy}>
        Set leverage
      </button>
      {invalid ? (
        <p class="error" role="alert">
          {invalid}
        </p>
      ) : null}
      <ErrorText error={action.error} />
      {done ? (
        <p class="notice" role="status">
          {done}
        </p>
      ) : null}
    </form>
  );
}

/** One of the order's amounts: typed as a decimal, marked invalid while the check blames it. */
function DraftInput(props: {
  name: string;
  field: DraftField;
  problem: Problem | null;
  value: string;
  onInput: (value: string) => void;
}) {
  return (
    <input
      name={props.name}
      inputMode="decimal"
      autocomplete="off"
      aria-invalid={props.problem?.field === props.field}
      value={props.value}
      onInput={(e) => props.onInput(e.currentTarget.value)}
    />
  );
}
