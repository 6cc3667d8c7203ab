// Moving funds on the vault and staking screens: an amount for the chosen wallet, sent as one
// action whose refusal the exchange explains (shown as an error) and whose success is said once.
import { useState } from "preact/hooks";
import { ApiError } from "../api";
import { useAction } from "../components/ui";
import type { ActionResult } from "./earnApi";

export function useEarnMove() {
  const [amount, setAmount] = useState("");
  const [done, setDone] = useState("");
  const action = useAction();

  /** Send `kind` (deposit, withdraw, delegate…) for the wallet; the exchange may refuse it. */
  const send = (
    kind: string,
    walletId: number | null,
    post: (walletId: number, amount: string) => Promise<ActionResult>,
    doneText: (amount: string) => string,
    after: () => void,
  ) =>
    action.run(async () => {
      setDone("");
      if (!walletId) throw new ApiError(0, "NO_WALLET", "Choose a verified wallet first.");
      const result = await post(walletId, amount.trim());
      if (!result.ok) throw new ApiError(0, "REFUSED", result.detail || `The ${kind} was refused.`);
      setDone(doneText(amount.trim()));
      setAmount("");
      after();
    });

  return { amount, setAmount, done, setDone, busy: action.busy, error: action.error, send };
}

export function AmountField(props: { id: string; name: string; label: string; value: string; onInput: (value: string) => void }) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        name={props.name}
        inputMode="decimal"
        required
        value={props.value}
        onInput={(e) => props.onInput(e.currentTarget.value)}
      />
    </div>
  );
}

/** What the last move did, announced to screen readers; nothing before the first one. */
export function MoveDone(props: { text: string; testid: string }) {
  if (!props.text) return null;
  return (
    <p role="status" data-testid={props.testid}>
      {props.text}
    </p>
  );
}
