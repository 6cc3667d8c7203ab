// Vaults: every vault with its APR and TVL, one vault's details, deposit and withdraw (with the
// lock-up a deposit starts), and the chosen wallet's equity in each vault and when it unlocks.
import { useEffect, useState } from "preact/hooks";
import { ErrorText, Panel, useLoad } from "../components/ui";
import * as fmt from "../format";
import { earnApi, percent, unlockText, type VaultDetails, type VaultEquity } from "./earnApi";
import { AmountField, MoveDone, useEarnMove } from "./earnMove";
import { EarnWalletPicker, useEarnWallet } from "./earnWallet";

export function Vaults() {
  const wallet = useEarnWallet();
  const vaults = useLoad(earnApi.vaults, []);
  const [selected, setSelected] = useState<string | null>(null);
  const equities = useLoad(
    () => (wallet.walletId ? earnApi.vaultEquities(wallet.walletId) : Promise.resolve([] as VaultEquity[])),
    [wallet.walletId],
  );
  const names = new Map((vaults.data ?? []).map((v) => [v.address, v.name]));

  return (
    <div class="stack">
      <h1>Vaults</h1>
      <EarnWalletPicker {...wallet} />
      <Panel title="Vault list">
        <ErrorText error={vaults.error} />
        {vaults.data && vaults.data.length === 0 ? <p>The exchange lists no vaults.</p> : null}
        {vaults.data?.length ? (
          <div class="scroll">
            <table data-testid="vault-list">
              <thead>
                <tr>
                  <th>Vault</th>
                  <th>Leader</th>
                  <th>APR</th>
                  <th>TVL</th>
                  <th>Status</th>
                  <th>
                    <span class="sr-only">Details</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {vaults.data.map((v) => (
                  <tr key={v.address} aria-current={v.address === selected ? "true" : undefined}>
                    <td>{v.name}</td>
                    <td class="mono">{fmt.shortAddress(v.leader)}</td>
                    <td>{percent(v.apr)}</td>
                    <td>{fmt.usd(v.tvl)}</td>
                    <td>{v.is_closed ? "closed" : "open"}</td>
                    <td>
                      <button type="button" class="link" onClick={() => setSelected(v.address)} aria-label={`Details of ${v.name}`}>
                        Details
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </Panel>
      {selected ? (
        <VaultPanel key={selected} address={selected} walletId={wallet.walletId} onMoved={() => equities.reload()} />
      ) : null}
      <Panel title="My vault equities">
        <ErrorText error={equities.error} />
        {equities.data && equities.data.length === 0 ? <p>This wallet has nothing in vaults.</p> : null}
        {equities.data?.length ? (
          <div class="scroll">
            <table data-testid="vault-equities">
              <thead>
                <tr>
                  <th>Vault</th>
                  <th>Equity</th>
                  <th>Withdrawals</th>
                </tr>
              </thead>
              <tbody>
                {equities.data.map((e) => (
                  <tr key={e.vault_address}>
                    <td>
                      <button type="button" class="link" onClick={() => setSelected(e.vault_address)}>
                        {names.get(e.vault_address) ?? fmt.shortAddress(e.vault_address)}
                      </button>
                    </td>
                    <td>{fmt.usd(e.equity)}</td>
                    <td data-testid="unlock">{unlockText(e.locked_until)}</td>
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

function VaultPanel(props: { address: string; walletId: number | null; onMoved: () => void }) {
  const details = useLoad(() => earnApi.vault(props.address), [props.address]);
  const move = useEarnMove();
  const v: VaultDetails | null = details.data;

  useEffect(() => move.setDone(""), [props.address]);

  const transfer = (kind: "deposit" | "withdraw") =>
    move.send(
      kind,
      props.walletId,
      (walletId, amount) => earnApi.vaultTransfer(props.address, kind, walletId, amount),
      (amount) => (kind === "deposit" ? `Deposited ${fmt.usd(amount)}.` : `Withdrew ${fmt.usd(amount)}.`),
      () => {
        props.onMoved();
        details.reload();
      },
    );

  return (
    <section class="panel" aria-labelledby="vault-title" data-testid="vault-details">
      <h2 id="vault-title">{v?.name ?? "Vault"}</h2>
      <ErrorText error={details.error} />
      {v ? (
        <>
          {v.description ? <p>{v.description}</p> : null}
          <dl class="facts">
            <dt>Address</dt>
            <dd class="mono">{v.address}</dd>
            <dt>Leader</dt>
            <dd class="mono">{v.leader}</dd>
            <dt>APR</dt>
            <dd>{percent(v.apr)}</dd>
            <dt>TVL</dt>
            <dd>{fmt.usd(v.tvl)}</dd>
            <dt>Followers</dt>
            <dd>{v.followers}</dd>
            <dt>Leader's share</dt>
            <dd>{percent(v.leader_fraction)}</dd>
            <dt>Leader's commission</dt>
            <dd>{percent(v.leader_commission)}</dd>
            <dt>Withdrawable now</dt>
            <dd>{fmt.usd(v.max_withdrawable)}</dd>
          </dl>
          <p class="notice">
            A deposit is locked for the vault's lock-up period (on Hyperliquid one day for a user's
            vault, four days for HLP) and can be withdrawn after it; the unlock time of your deposit
            is shown under “My vault equities”.
          </p>
          {v.allow_deposits ? null : <p class="error">This vault takes no deposits now.</p>}
          <form class="inline" onSubmit={(e) => (e.preventDefault(), transfer("deposit"))}>
            <AmountField id="vault-amount" name="vault_amount" label="Amount (USDC)" value={move.amount} onInput={move.setAmount} />
            <button type="submit" disabled={move.busy || !v.allow_deposits}>
              Deposit
            </button>
            <button type="button" disabled={move.busy} onClick={() => transfer("withdraw")}>
              Withdraw
            </button>
          </form>
          <MoveDone text={move.done} testid="vault-done" />
          <ErrorText error={move.error} />
        </>
      ) : null}
    </section>
  );
}
