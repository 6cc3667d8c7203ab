// The bot's cumulative realized PnL (each fill's closed_pnl minus its fee), summed exactly from
// the trades' decimal strings; the chart only draws the running total.
import { ColorType, createChart, LineSeries, type UTCTimestamp } from "lightweight-charts";
import { useEffect, useRef } from "preact/hooks";
import type { Trade } from "../../api";

interface Fixed {
  units: bigint; // value = units / 10^SCALE
}
const SCALE = 12;

function fixed(text: string): Fixed {
  const t = text.trim();
  const negative = t.startsWith("-");
  const [whole, frac = ""] = t.replace(/^[-+]/, "").split(".");
  const units = BigInt((whole || "0") + frac.padEnd(SCALE, "0").slice(0, SCALE));
  return { units: negative ? -units : units };
}

function text(value: Fixed): string {
  const negative = value.units < 0n;
  const digits = (negative ? -value.units : value.units).toString().padStart(SCALE + 1, "0");
  const frac = digits.slice(-SCALE).replace(/0+$/, "");
  return `${negative ? "-" : ""}${digits.slice(0, -SCALE)}${frac ? `.${frac}` : ""}`;
}

export interface PnlPoint {
  time: number; // ms
  total: string; // cumulative, exact
}

/** The running total after each trade, oldest first. */
export function cumulativePnl(trades: Trade[]): PnlPoint[] {
  let total = 0n;
  return [...trades]
    .sort((a, b) => a.time - b.time || a.id - b.id)
    .map((t) => {
      total += fixed(t.closed_pnl).units - fixed(t.fee).units;
      return { time: t.time, total: text({ units: total }) };
    });
}

function colours() {
  const style = getComputedStyle(document.documentElement);
  const get = (name: string) => style.getPropertyValue(name).trim();
  return {
    // The library's own logo injects a <style> element, which the app's CSP refuses; the
    // attribution it asks for is the link under the chart instead.
    layout: {
      background: { type: ColorType.Solid, color: get("--panel") },
      textColor: get("--text"),
      attributionLogo: false,
    },
    grid: { vertLines: { color: get("--grid") }, horzLines: { color: get("--grid") } },
  };
}

export function PnlChart({ points }: { points: PnlPoint[] }) {
  const box = useRef<HTMLDivElement>(null);
  const series = useRef<ReturnType<ReturnType<typeof createChart>["addSeries"]> | null>(null);
  const chart = useRef<ReturnType<typeof createChart> | null>(null);

  useEffect(() => {
    const made = createChart(box.current!, { autoSize: true, ...colours() });
    chart.current = made;
    series.current = made.addSeries(LineSeries, { color: getComputedStyle(document.documentElement).getPropertyValue("--accent").trim() || "#0e7490", lineWidth: 2 });
    const scheme = matchMedia("(prefers-color-scheme: dark)");
    const recolour = () => made.applyOptions(colours());
    scheme.addEventListener("change", recolour);
    return () => {
      scheme.removeEventListener("change", recolour);
      made.remove();
      chart.current = null;
      series.current = null;
    };
  }, []);

  useEffect(() => {
    // One point per second (the chart's resolution): the total after that second's last fill.
    const bySecond = new Map<number, number>();
    for (const p of points) bySecond.set(Math.floor(p.time / 1000), Number(p.total));
    series.current?.setData([...bySecond].map(([time, value]) => ({ time: time as UTCTimestamp, value })));
    chart.current?.timeScale().fitContent();
  }, [points]);

  const last = points.length ? points[points.length - 1].total : "0";
  return (
    <figure class="pnl-figure">
      <div class="chart pnl-chart" ref={box} data-testid="pnl-chart" aria-hidden="true" />
      <figcaption>
        <span class="sr-only" data-testid="pnl-summary">
          Cumulative realized PnL after fees: {last} USD over {points.length} fills.
        </span>
        <small>
          Chart by <a href="https://www.tradingview.com/lightweight-charts/">TradingView Lightweight Charts</a>
        </small>
      </figcaption>
    </figure>
  );
}
