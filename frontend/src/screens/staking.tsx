// Staking: the validators, delegating to and undelegating from one, and the chosen wallet's
// delegations (each locked for a while after it is made) and staking balances.
import { useState } from "preact/hooks";
import { ApiError } from "../api";
import { ErrorText, Panel, useAction, useLoad } from "../components/ui";
import * as fmt from "../format";
import { earnApi, percent, type Staking as StakingState, unlockText } from "./earnApi";
import { EarnWalletPicker, useEarnWallet } from "./earnWallet";

function hype(amount: string): string {
  return `${fmt.price(amount)} HYPE`;
}

export function Staking() {
  const wallet = useEarnWallet();
  const validators = useLoad(earnApi.validators, []);
  const mine = useLoad(
    () => (wallet.walletId ? earnApi.staking(wallet.walletId) : Promise.resolve(null as StakingState | null)),
    [wallet.walletId],
  );
  const [validator, setValidator] = useState("");
  const [amount, setAmount] = useState("");
  const [done, setDone] = useState("");
  const act = useAction();
  const names = new Map((validators.data ?? []).map((v) => [v.validator, v.name]));
  const summary = mine.data?.summary;

  const stake = (kind: "delegate" | "undelegate") =>
    act.run(async () => {
      setDone("");
      if (!wallet.walletId) throw new ApiError(0, "NO_WALLET", "Choose a verified wallet first.");
      if (!validator) throw new ApiError(0, "NO_VALIDATOR", "Choose a validator.");
      const result = await earnApi.stake(kind, wallet.walletId, validator, amount.trim());
      if (!result.ok) throw new ApiError(0, "REFUSED", result.detail || `The ${kind} was refused.`);
      setDone(`${kind === "delegate" ? "Delegated" : "Undelegated"} ${hype(amount.trim())} ${kind === "delegate" ? "to" : "from"} ${names.get(validator) ?? validator}.`);
      setAmount("");
      mine.reload();
      validators.reload();
    });

  return (
    <div class="stack">
      <h1>Staking</h1>
      <EarnWalletPicker {...wallet} />
      {summary ? (
        <div class="stats" data-testid="staking-summary">
          <div class="stat">
            <span>Delegated</span>
            <strong data-testid="delegated">{hype(summary.delegated)}</strong>
          </div>
          <div class="stat">
            <span>Staking balance, not delegated</span>
            <strong>{hype(summary.undelegated)}</strong>
          </div>
          <div class="stat">
            <span>Pending withdrawal</span>
            <strong>
              {hype(summary.total_pending_withdrawal)} ({summary.pending_withdrawals})
            </strong>
          </div>
        </div>
      ) : null}
      <ErrorText error={mine.error} />
      <Panel title="Validators">
        <ErrorText error={validators.error} />
        {validators.data?.length ? (
          <div class="scroll">
            <table data-testid="validator-list">
              <thead>
                <tr>
                  <th>Validator</th>
                  <th>Address</th>
                  <th>Stake (exchange units)</th>
                  <th>Commission</th>
                  <th>State</th>
                  <th>
                    <span class="sr-only">Choose</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {validators.data.map((v) => (
                  <tr key={v.validator} aria-current={v.validator === validator ? "true" : undefined}>
                    <td title={v.description}>{v.name}</td>
                    <td class="mono">{fmt.shortAddress(v.validator)}</td>
                    <td>{fmt.price(v.stake)}</td>
                    <td>{percent(v.commission)}</td>
                    <td>{v.is_jailed ? "jailed" : v.is_active ? "active" : "inactive"}</td>
                    <td>
                      <button type="button" class="link" onClick={() => setValidator(v.validator)} aria-label={`Choose ${v.name}`}>
                        Choose
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </Panel>
      <Panel title="Delegate">
        <p>
          Delegating moves HYPE from the wallet's spot balance to its staking balance when needed.
          A delegation is locked for a day before it can be undelegated; undelegated HYPE stays in
          the staking balance.
        </p>
        <form class="inline" onSubmit={(e) => (e.preventDefault(), stake("delegate"))}>
          <div class="field">
            <label for="stake-validator">Validator</label>
            <select id="stake-validator" value={validator} onChange={(e) => setValidator(e.currentTarget.value)}>
              <option value="">Choose a validator…</option>
              {(validators.data ?? []).map((v) => (
                <option key={v.validator} value={v.validator}>
                  {v.name}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="stake-amount">Amount (HYPE)</label>
            <input id="stake-amount" name="stake_amount" inputMode="decimal" required value={amount} onInput={(e) => setAmount(e.currentTarget.value)} />
          </div>
          <button type="submit" disabled={act.busy}>
            Delegate
          </button>
          <button type="button" disabled={act.busy} onClick={() => stake("undelegate")}>
            Undelegate
          </button>
        </form>
        {done ? (
          <p role="status" data-testid="stake-done">
            {done}
          </p>
        ) : null}
        <ErrorText error={act.error} />
      </Panel>
      <Panel title="My delegations">
        {mine.data && mine.data.delegations.length === 0 ? <p>This wallet delegates to no validator.</p> : null}
        {mine.data?.delegations.length ? (
          <div class="scroll">
            <table data-testid="delegations">
              <thead>
                <tr>
                  <th>Validator</th>
                  <th>Amount</th>
                  <th>Undelegating</th>
                </tr>
              </thead>
              <tbody>
                {mine.data.delegations.map((d) => (
                  <tr key={d.validator}>
                    <td>{names.get(d.validator) ?? fmt.shortAddress(d.validator)}</td>
                    <td>{hype(d.amount)}</td>
                    <td>{unlockText(d.locked_until)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </Panel>
    </div>
  );
}
