// Wallets: generate or import keys (agent keys name their account), verify, paper faucet, and
// each wallet's account (value, margin, positions, spot balances).
import { useEffect, useState } from "preact/hooks";
import { api, type Account, type Wallet } from "../api";
import { ErrorText, Field, Panel, useAction, useLoad } from "../components/ui";
import { ApproveWithBrowserWallet, ConnectWallet } from "../components/connectWallet";
import { WalletLabelInput } from "../components/walletLabelInput";
import { health, refreshWallets, wallets as walletStore } from "../data";
import * as fmt from "../format";
import { useStore } from "../store";

export function Wallets() {
  const list = useStore(walletStore);
  const { error } = useLoad(refreshWallets, []);
  const [warnings, setWarnings] = useState<string[]>([]);
  const [open, setOpen] = useState<number | null>(null);
  return (
    <div class="stack">
      <h1>Wallets</h1>
      <ErrorText error={error} />
      {warnings.length ? (
        <div class="banner banner-warn" role="alert" data-testid="wallet-warnings">
          {warnings.map((w) => (
            <p key={w}>{w}</p>
          ))}
        </div>
      ) : null}
      <Panel title="Your wallets">
        {list && list.length === 0 ? <p>No wallets yet. Generate one or import a key below.</p> : null}
        <ul class="cards">
          {(list ?? []).map((w) => (
            <WalletCard
              key={w.id}
              wallet={w}
              open={open === w.id}
              onToggle={() => setOpen(open === w.id ? null : w.id)}
            />
          ))}
        </ul>
      </Panel>
      <div class="columns">
        <GenerateForm onCreated={(w) => (setWarnings(w.warnings), setOpen(w.id))} />
        <ImportForm onCreated={(w) => (setWarnings(w.warnings), setOpen(w.id))} />
        <ConnectWallet onConnected={(w) => setOpen(w.id)} />
      </div>
    </div>
  );
}

function WalletCard(props: { wallet: Wallet; open: boolean; onToggle: () => void }) {
  const w = props.wallet;
  const info = useStore(health);
  const { busy, error, run } = useAction();
  const [account, setAccount] = useState<Account | null>(null);
  const [amount, setAmount] = useState("10000");

  useEffect(() => {
    if (props.open) run(async () => setAccount(await api.account(w.id)));
  }, [props.open, w.id]);

  return (
    <li class="card" data-testid="wallet" data-wallet-id={w.id}>
      <div class="card-head">
        <strong>{w.label}</strong>
        <span class={`tag ${w.verified ? "ok" : "warn"}`}>
          {w.verified ? "verified" : "not verified"}
        </span>
        <span class="tag">{w.is_agent ? "agent key" : "account key"}</span>
      </div>
      <dl class="facts">
        <dt>Signer</dt>
        <dd class="mono">{w.address}</dd>
        <dt>Account</dt>
        <dd class="mono">{w.account_address}</dd>
      </dl>
      {w.verification_error ? <p class="error">{w.verification_error}</p> : null}
      <div class="actions">
        <button type="button" onClick={props.onToggle} aria-expanded={props.open}>
          {props.open ? "Hide account" : "Show account"}
        </button>
        <button
          type="button"
          disabled={busy}
          onClick={() => run(async () => (await api.verifyWallet(w.id), refreshWallets()))}
        >
          Verify
        </button>
        <a class="button" href={`/trade?wallet=${w.id}`}>
          Trade
        </a>
        <ApproveWithBrowserWallet wallet={w} />
      </div>
      {info?.network === "paper" && !w.is_agent ? (
        <form
          class="inline"
          onSubmit={(e) => {
            e.preventDefault();
            run(async () => setAccount(await api.faucet(w.id, amount)));
          }}
        >
          <Field label="Paper USDC">
            <input
              name="faucet_amount"
              inputMode="decimal"
              value={amount}
              onInput={(e) => setAmount(e.currentTarget.value)}
            />
          </Field>
          <button type="submit" disabled={busy}>
            Get paper funds
          </button>
        </form>
      ) : null}
      <ErrorText error={error} />
      {props.open && account ? <AccountView account={account} /> : null}
    </li>
  );
}

export function AccountView({ account }: { account: Account }) {
  return (
    <div class="account" data-testid="account">
      <dl class="facts">
        <dt>Account value</dt>
        <dd data-testid="account-value">{fmt.usd(account.account_value)}</dd>
        <dt>Withdrawable</dt>
        <dd>{fmt.usd(account.withdrawable)}</dd>
        <dt>Margin used</dt>
        <dd>{fmt.usd(account.margin_used)}</dd>
        <dt>Live data</dt>
        <dd>{account.stream_mode ?? "—"}</dd>
      </dl>
      {account.positions.length ? (
        <div class="scroll">
          <table>
            <caption>Positions</caption>
            <thead>
              <tr>
                <th>Coin</th>
                <th>Size</th>
                <th>Entry</th>
                <th>Unrealized PnL</th>
                <th>Liq. price</th>
              </tr>
            </thead>
            <tbody>
              {account.positions.map((p) => (
                <tr key={p.coin}>
                  <td>{p.coin}</td>
                  <td>{p.size}</td>
                  <td>{fmt.price(p.entry_price)}</td>
                  <td class={fmt.tone(p.unrealized_pnl)}>{fmt.usd(p.unrealized_pnl)}</td>
                  <td>{fmt.price(p.liquidation_price)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p>No open positions.</p>
      )}
      {account.spot_balances.length ? (
        <p>
          Spot:{" "}
          {account.spot_balances.map((b) => `${b.coin} ${fmt.price(b.total)}`).join(", ")}
        </p>
      ) : null}
    </div>
  );
}

function GenerateForm({ onCreated }: { onCreated: (w: Wallet) => void }) {
  const [label, setLabel] = useState("");
  const { busy, error, run } = useAction();
  return (
    <Panel title="Generate a wallet">
      <p>A new key is made on the server and stored encrypted; it never leaves it.</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          run(async () => {
            const wallet = await api.createWallet({ label: label.trim() });
            await refreshWallets();
            setLabel("");
            onCreated(wallet);
          });
        }}
      >
        <Field label="Label">
          <WalletLabelInput name="generate_label" value={label} onInput={setLabel} />
        </Field>
        <ErrorText error={error} />
        <button type="submit" disabled={busy}>
          Generate
        </button>
      </form>
    </Panel>
  );
}

function ImportForm({ onCreated }: { onCreated: (w: Wallet) => void }) {
  const [label, setLabel] = useState("");
  const [key, setKey] = useState("");
  const [account, setAccount] = useState("");
  const { busy, error, run } = useAction();
  return (
    <Panel title="Import a key">
      <p>
        Prefer an API (agent) key: it can trade but not withdraw. Give the account address it
        trades for.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          run(async () => {
            const wallet = await api.createWallet({
              label: label.trim(),
              private_key: key.trim(),
              account_address: account.trim() || undefined,
            });
            setKey("");
            await refreshWallets();
            onCreated(wallet);
          });
        }}
      >
        <Field label="Label">
          <WalletLabelInput name="import_label" value={label} onInput={setLabel} />
        </Field>
        <Field label="Private key" hint="64 hex digits; sent once over this connection, never shown again.">
          <input
            name="private_key"
            type="password"
            autocomplete="off"
            required
            value={key}
            onInput={(e) => setKey(e.currentTarget.value)}
          />
        </Field>
        <Field label="Account address (for an agent key)">
          <input
            name="account_address"
            autocomplete="off"
            placeholder="0x…"
            value={account}
            onInput={(e) => setAccount(e.currentTarget.value)}
          />
        </Field>
        <ErrorText error={error} />
        <button type="submit" disabled={busy}>
          Import
        </button>
      </form>
    </Panel>
  );
}
