// Open orders: listed, cancelled, and modified in place (price and size through PATCH /orders),
// with the same local checks and one-click fixes as the order form.
import { useMemo, useState } from "preact/hooks";
import { api, type OpenOrder } from "../../api";
import { ErrorText, Field, Panel, useAction } from "../../components/ui";
import { markets as marketStore } from "../../data";
import * as fmt from "../../format";
import { checkOrder, type DraftField, type Problem } from "../../orderCheck";
import { useStore } from "../../store";
import { ProblemText, RefusalText } from "./problem";

export function OpenOrders(props: {
  walletId: number;
  orders: OpenOrder[] | null;
  error: unknown;
  onChanged: () => void;
}) {
  const cancel = useAction();
  return (
    <Panel title="Open orders" class="orders-panel">
      <ErrorText error={props.error ?? cancel.error} />
      <OrdersTable
        orders={props.orders ?? []}
        busy={cancel.busy}
        onCancel={(o) =>
          cancel.run(async () => (await api.cancelOrder(props.walletId, o.oid), props.onChanged()))
        }
        onModify={async (o, change) => {
          await api.modifyOrder(props.walletId, o.oid, change);
          props.onChanged();
        }}
      />
    </Panel>
  );
}

function describeType(o: OpenOrder): string {
  const trigger = o.is_trigger && o.trigger_price ? ` · trigger ${fmt.price(o.trigger_price)}` : "";
  return `${o.order_type}${trigger}${o.reduce_only ? " · reduce only" : ""}`;
}

export function OrdersTable(props: {
  orders: OpenOrder[];
  busy?: boolean;
  onCancel?: (o: OpenOrder) => void;
  onModify?: (o: OpenOrder, change: { price?: string; size?: string }) => Promise<void>;
  walletLabel?: (o: OpenOrder) => string;
}) {
  const marketList = useStore(marketStore) ?? [];
  const decimalsOf = useMemo(
    () => new Map(marketList.map((m) => [m.coin, m.sz_decimals])),
    [marketList],
  );
  const [editing, setEditing] = useState<number | null>(null);
  if (!props.orders.length) return <p>No open orders.</p>;
  const actions = props.onCancel || props.onModify;
  const columns = 6 + (props.walletLabel ? 1 : 0) + (actions ? 1 : 0);
  return (
    <div class="scroll">
      <table data-testid="open-orders">
        <thead>
          <tr>
            {props.walletLabel ? <th>Wallet</th> : null}
            <th>Coin</th>
            <th>Side</th>
            <th>Price</th>
            <th>Size</th>
            <th>Type</th>
            <th>Order id</th>
            {actions ? <th><span class="sr-only">Actions</span></th> : null}
          </tr>
        </thead>
        <tbody>
          {props.orders.flatMap((o) => {
            const szDecimals = decimalsOf.get(o.coin) ?? 4;
            const row = (
              <tr key={o.oid} data-oid={o.oid}>
                {props.walletLabel ? <td>{props.walletLabel(o)}</td> : null}
                <td>{o.coin}</td>
                <td class={o.side === "buy" ? "pos" : "neg"}>{o.side}</td>
                <td>{fmt.price(o.price)}</td>
                <td>{fmt.size(o.size, szDecimals)}</td>
                <td>{describeType(o)}</td>
                <td>{o.oid}</td>
                {actions ? (
                  <td class="actions">
                    {/* A trigger order's modify would drop its trigger (the route re-places a
                        plain limit), so those are cancelled and placed again instead. */}
                    {props.onModify && !o.is_trigger ? (
                      <button
                        type="button"
                        aria-expanded={editing === o.oid}
                        onClick={() => setEditing(editing === o.oid ? null : o.oid)}
                      >
                        Modify
                      </button>
                    ) : null}
                    {props.onCancel ? (
                      <button type="button" disabled={props.busy} onClick={() => props.onCancel!(o)}>
                        Cancel
                      </button>
                    ) : null}
                  </td>
                ) : null}
              </tr>
            );
            if (editing !== o.oid || !props.onModify) return [row];
            return [
              row,
              <tr key={`edit${o.oid}`} class="editing">
                <td colSpan={columns}>
                  <ModifyForm
                    order={o}
                    szDecimals={szDecimals}
                    onSave={props.onModify}
                    onDone={() => setEditing(null)}
                  />
                </td>
              </tr>,
            ];
          })}
        </tbody>
      </table>
    </div>
  );
}

function ModifyForm(props: {
  order: OpenOrder;
  szDecimals: number;
  onSave: (o: OpenOrder, change: { price?: string; size?: string }) => Promise<void>;
  onDone: () => void;
}) {
  const { order } = props;
  const [price, setPrice] = useState(fmt.price(order.price));
  const [size, setSize] = useState(fmt.size(order.size, props.szDecimals));
  const [problem, setProblem] = useState<Problem | null>(null);
  const save = useAction();
  const fix = (field: DraftField, value: string) => {
    if (field === "size") setSize(value);
    if (field === "price") setPrice(value);
    setProblem(null);
    save.setError(null);
  };
  const submit = (e: Event) => {
    e.preventDefault();
    const side: "buy" | "sell" = order.side === "buy" ? "buy" : "sell";
    const draft = { kind: "limit" as const, side, size, price, triggerPrice: "", reduceOnly: order.reduce_only };
    const found = checkOrder(draft, props.szDecimals, null);
    setProblem(found);
    if (found) return;
    save.run(async () => {
      await props.onSave(order, { price: price.trim(), size: size.trim() });
      props.onDone();
    });
  };
  return (
    <form class="row modify" aria-label={`Modify order ${order.oid}`} onSubmit={submit} noValidate>
      <Field label="New price (USD)">
        <input name="new_price" inputMode="decimal" autocomplete="off" aria-invalid={problem?.field === "price"} value={price} onInput={(e) => setPrice(e.currentTarget.value)} />
      </Field>
      <Field label={`New size (${order.coin})`}>
        <input name="new_size" inputMode="decimal" autocomplete="off" aria-invalid={problem?.field === "size"} value={size} onInput={(e) => setSize(e.currentTarget.value)} />
      </Field>
      <button type="submit" disabled={save.busy}>
        Save
      </button>
      <button type="button" onClick={props.onDone}>
        Keep as is
      </button>
      <ProblemText problem={problem} onFix={fix} />
      <RefusalText error={save.error} onFix={fix} />
    </form>
  );
}
