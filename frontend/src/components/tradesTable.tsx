// The fills table the history screen and a bot's page share, so a fill reads the same in both;
// the history adds which wallet and which source (by hand or which bot) each fill came from.
import type { Trade } from "../api";
import * as fmt from "../format";

export function TradesTable(props: {
  trades: Trade[];
  testId: string;
  /** The wallet's label by id; given, the table shows the wallet and source columns. */
  walletLabels?: Map<number, string>;
}) {
  const labels = props.walletLabels;
  return (
    <div class="scroll">
      <table data-testid={props.testId}>
        <thead>
          <tr>
            <th>Time</th>
            {labels ? (
              <>
                <th>Wallet</th>
                <th>Source</th>
              </>
            ) : null}
            <th>Coin</th>
            <th>Side</th>
            <th>Price</th>
            <th>Size</th>
            <th>Fee</th>
            <th>Closed PnL</th>
          </tr>
        </thead>
        <tbody>
          {props.trades.map((t) => (
            <tr key={t.id}>
              <td>{fmt.time(t.time)}</td>
              {labels ? (
                <>
                  <td>{labels.get(t.wallet_id) ?? t.wallet_id}</td>
                  <td>{t.bot_id ? `bot ${t.bot_id}` : t.source}</td>
                </>
              ) : null}
              <td>{t.coin}</td>
              <td class={t.side === "buy" ? "pos" : "neg"}>{t.side}</td>
              <td>{fmt.price(t.price)}</td>
              <td>{t.size}</td>
              <td>{fmt.usd(t.fee)}</td>
              <td class={fmt.tone(t.closed_pnl)}>{fmt.usd(t.closed_pnl)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
