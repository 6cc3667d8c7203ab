// Staking: the validators, delegating to and undelegating from one, and the chosen wallet's
// delegations (each locked for a while after it is made) and staking balances.
import { useState } from "preact/hooks";
import { ApiError } from "../api";
import { ErrorText, Panel, Stat, useLoad } from "../components/ui";
import * as fmt from "../format";
import { earnApi, percent, type Staking as StakingState, unlockText } from "./earnApi";
import { AmountField, MoveDone, useEarnMove } from "./earnMove";
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
  const move = useEarnMove();
  const names = new Map((validators.data ?? []).map((v) => [v.validator, v.name]));
  const summary = mine.data?.summary;

  const stake = (kind: "delegate" | "undelegate") =>
    move.send(
      kind,
      wallet.walletId,
      (walletId, amount) => {
        if (!validator) throw new ApiError(0, "NO_VALIDATOR", "Choose a validator.");
        return earnApi.stake(kind, walletId, validator, amount);
      },
      (amount) =>
        `${kind === "delegate" ? "Delegated" : "Undelegated"} ${hype(amount)} ${kind === "delegate" ? "to" : "from"} ${names.get(validator) ?? validator}.`,
      () => {
        mine.reload();
        validators.reload();
      },
    );

  return (
    <div class="stack">
      <h1>Staking</h1>
      <EarnWalletPicker {...wallet} />
      {summary ? (
        <div class="stats" data-testid="staking-summary">
          <Stat label="Delegated" value={hype(summary.delegated)} testid="delegated" />
          <Stat label="Staking balance, not delegated" value={hype(summary.undelegated)} />
          <Stat
            label="Pending withdrawal"
            value={`${hype(summary.total_pending_withdrawal)} (${summary.pending_withdrawals})`}
          />
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
          <AmountField id="stake-amount" name="stake_amount" label="Amount (HYPE)" value={move.amount} onInput={move.setAmount} />
          <button type="submit" disabled={move.busy}>
            Delegate
          </button>
          <button type="button" disabled={move.busy} onClick={() => stake("undelegate")}>
            Undelegate
          </button>
        </form>
        <MoveDone text={move.done} testid="stake-done" />
        <ErrorText error={move.error} />
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
