// The wallet that vault and staking screens act for: only wallets the exchange has verified can
// see their equities and move funds, so those are offered (the first one chosen by default).
import { useEffect, useState } from "preact/hooks";
import { WalletPicker } from "../components/ui";
import "./earn.css";
import { refreshWallets, wallets as walletStore } from "../data";
import { useStore } from "../store";

export function useEarnWallet() {
  const list = (useStore(walletStore) ?? []).filter((w) => w.verified);
  const [walletId, setWalletId] = useState<number | null>(null);
  useEffect(() => {
    refreshWallets().catch(() => undefined);
  }, []);
  useEffect(() => {
    if (list.length && !list.some((w) => w.id === walletId)) setWalletId(list[0].id);
  }, [list.map((w) => w.id).join(",")]);
  return { walletId, setWalletId, list };
}

export function EarnWalletPicker(props: ReturnType<typeof useEarnWallet>) {
  if (!props.list.length) {
    return (
      <p class="notice">
        You need a verified wallet to use this screen. <a href="/wallets">Add or verify one</a>.
      </p>
    );
  }
  return (
    <div class="field">
      <span id="earn-wallet-label">Wallet</span>
      <WalletPicker wallets={props.list} value={props.walletId} onChange={props.setWalletId} />
    </div>
  );
}
