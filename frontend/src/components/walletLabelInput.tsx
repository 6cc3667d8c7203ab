// A wallet's label, the same rule wherever a wallet is made: required and at most the 100
// characters the API keeps.
export function WalletLabelInput(props: { id?: string; name: string; value: string; onInput: (value: string) => void }) {
  return (
    <input
      id={props.id}
      name={props.name}
      required
      maxLength={100}
      value={props.value}
      onInput={(e) => props.onInput(e.currentTarget.value)}
    />
  );
}
