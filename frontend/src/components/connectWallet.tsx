// Connecting a browser wallet (MetaMask, Rabby — any EIP-1193 provider at window.ethereum): the
// server makes an agent key for the account, and the account's owner approves it by signing
// Hyperliquid's approveAgent in the browser wallet. The account's own key never leaves it; the
// agent the server keeps can trade but cannot withdraw.
import { useState } from "preact/hooks";
import { ApiError, request, type Wallet } from "../api";
import { refreshWallets } from "../data";
import { ErrorText } from "./ui";
import { WalletLabelInput } from "./walletLabelInput";

interface Eip1193 {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

interface Prepared {
  wallet: Wallet;
  nonce: number;
  chain_id: number;
  agent_name: string;
  typed_data: Record<string, unknown>;
}

function provider(): Eip1193 | null {
  const candidate = (window as unknown as { ethereum?: Eip1193 }).ethereum;
  return candidate && typeof candidate.request === "function" ? candidate : null;
}

// What went wrong, in words that say what to do next.
const WORDS: Record<string, string> = {
  SIGNATURE_MISMATCH:
    "The approval was signed by another account than the one you connected. Switch your browser wallet to that account and approve again.",
  APPROVAL_EXPIRED: "The approval expired before it was signed. Approve again.",
  INVALID_SIGNATURE: "The browser wallet's signature is not valid. Approve again.",
};

function walletError(error: unknown): ApiError {
  if (error instanceof ApiError) {
    const words = WORDS[error.code];
    return words ? new ApiError(error.status, error.code, words, error.fields) : error;
  }
  const code = (error as { code?: number } | null)?.code;
  if (code === 4001) return new ApiError(0, "USER_REJECTED", "You declined the request in your browser wallet.");
  if (code === -32002) return new ApiError(0, "WALLET_BUSY", "Your browser wallet is already asking you something: answer it first.");
  const message = (error as { message?: string } | null)?.message ?? String(error);
  return new ApiError(0, "BROWSER_WALLET", `The browser wallet answered with an error: ${message}`);
}

async function post<T>(path: string, body: unknown): Promise<T> {
  return (await (await request("POST", path, body)).json()) as T;
}

async function account(eth: Eip1193): Promise<{ address: string; chainId: number }> {
  const accounts = (await eth.request({ method: "eth_requestAccounts" })) as string[];
  if (!accounts?.length) throw new ApiError(0, "NO_ACCOUNT", "The browser wallet shared no account.");
  const chain = (await eth.request({ method: "eth_chainId" })) as string;
  return { address: accounts[0].toLowerCase(), chainId: Number.parseInt(chain, 16) };
}

/** Sign the prepared approval in the browser wallet and hand it to the server. */
async function approve(eth: Eip1193, signer: string, prepared: Prepared): Promise<Wallet> {
  const signature = (await eth.request({
    method: "eth_signTypedData_v4",
    params: [signer, JSON.stringify(prepared.typed_data)],
  })) as string;
  return post<Wallet>(`/wallets/${prepared.wallet.id}/approval/submit`, {
    nonce: prepared.nonce,
    chain_id: prepared.chain_id,
    signature,
  });
}

const KEY_STAYS =
  "Your account's key never leaves your browser wallet: you only sign an approval of a new API (agent) key, which Hyperdesk keeps encrypted. That key can trade for the account but cannot withdraw from it.";

export function ConnectWallet({ onConnected }: { onConnected?: (wallet: Wallet) => void }) {
  const [label, setLabel] = useState("Browser wallet");
  const [step, setStep] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [connected, setConnected] = useState<Wallet | null>(null);
  const eth = provider();

  const connect = async (event: Event) => {
    event.preventDefault();
    if (!eth) return;
    setBusy(true);
    setError(null);
    setConnected(null);
    try {
      setStep("Asking your browser wallet for the account…");
      const { address, chainId } = await account(eth);
      setStep("Preparing the approval…");
      const prepared = await post<Prepared>("/wallets/connect", {
        label: label.trim(),
        account_address: address,
        chain_id: chainId,
      });
      setStep("Approve the agent in your browser wallet…");
      const wallet = await approve(eth, address, prepared);
      await refreshWallets();
      setConnected(wallet);
      onConnected?.(wallet);
    } catch (err) {
      setError(walletError(err));
      refreshWallets().catch(() => undefined);
    } finally {
      setStep("");
      setBusy(false);
    }
  };

  return (
    <section class="panel" aria-labelledby="connect-wallet-title" data-testid="connect-wallet">
      <h2 id="connect-wallet-title">Connect a browser wallet</h2>
      <p>{KEY_STAYS}</p>
      {eth ? (
        <form onSubmit={connect}>
          <div class="field">
            <label for="connect-label">Label</label>
            <WalletLabelInput id="connect-label" name="connect_label" value={label} onInput={setLabel} />
          </div>
          <button type="submit" disabled={busy}>
            Connect browser wallet
          </button>
        </form>
      ) : (
        <p class="notice" data-testid="no-provider">
          No browser wallet was found in this browser. Install MetaMask or Rabby (or enable it for
          this site), then reload this page.
        </p>
      )}
      {step ? <p role="status">{step}</p> : null}
      {connected ? (
        <p role="status" data-testid="connect-done">
          Connected {connected.account_address}: {connected.verified ? "the agent is approved." : "waiting for the exchange to list the agent; press Verify on the wallet in a moment."}
        </p>
      ) : null}
      <ErrorText error={error} />
    </section>
  );
}

/** For an agent wallet the exchange does not (or no longer) list: approve it again. */
export function ApproveWithBrowserWallet({ wallet }: { wallet: Wallet }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const eth = provider();
  if (!eth || !wallet.is_agent || wallet.verified) return null;

  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      const { address, chainId } = await account(eth);
      if (address !== wallet.account_address.toLowerCase()) {
        throw new ApiError(
          0,
          "SIGNATURE_MISMATCH",
          `Your browser wallet is on ${address}; switch it to ${wallet.account_address}, the account this agent trades for.`,
        );
      }
      const prepared = await post<Prepared>(`/wallets/${wallet.id}/approval`, { chain_id: chainId });
      await approve(eth, address, prepared);
      await refreshWallets();
    } catch (err) {
      setError(err instanceof ApiError && err.status === 0 ? err : walletError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <button type="button" disabled={busy} onClick={run} title={KEY_STAYS}>
        Approve with browser wallet
      </button>
      <ErrorText error={error} />
    </>
  );
}
