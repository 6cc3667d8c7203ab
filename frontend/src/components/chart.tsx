// The candle chart (TradingView lightweight-charts), following the colour scheme and the latest
// candles, with the user's fills as markers and open orders as price lines. Prices arrive as exact
// strings; the chart only draws, so numbers are fine here. The canvas says nothing to a screen
// reader (or a test), so the same marks are also listed in a visually hidden list, and the chart
// element carries how many it actually drew.
// The library is loaded on first use, so the login page and other screens do not wait for it.
import type {
  IChartApi,
  IPriceLine,
  ISeriesApi,
  ISeriesMarkersPluginApi,
  SeriesMarker,
  Time,
  UTCTimestamp,
} from "lightweight-charts";
import { useEffect, useRef, useState } from "preact/hooks";
import { api, type Candle } from "../api";
import * as fmt from "../format";

const REFRESH_MS = 5_000;
const library = () => import("lightweight-charts");
const UP = "#16a34a";
const DOWN = "#dc2626";
const INTERVAL_SECONDS: Record<string, number> = {
  "1m": 60,
  "5m": 300,
  "15m": 900,
  "1h": 3_600,
  "4h": 14_400,
  "1d": 86_400,
};

/** One of the user's fills, drawn as an arrow on the candle it happened in. */
export interface ChartFill {
  id: number;
  time: number; // ms
  side: string;
  price: string;
  size: string;
}

/** One open order, drawn as a dashed line at its limit price. */
export interface ChartOrder {
  oid: number;
  side: string;
  price: string; // a trigger order's trigger price
  size: string;
  trigger?: boolean;
}

function bar(c: Candle) {
  return {
    time: Math.floor(c.time / 1000) as UTCTimestamp,
    open: Number(c.open),
    high: Number(c.high),
    low: Number(c.low),
    close: Number(c.close),
  };
}

function colours() {
  const style = getComputedStyle(document.documentElement);
  const get = (name: string) => style.getPropertyValue(name).trim();
  return {
    layout: {
      background: { type: "solid" as never, color: get("--panel") },
      textColor: get("--text"),
      // The built-in logo injects a <style> element, which the CSP refuses; the attribution is
      // the plain link under the chart instead.
      attributionLogo: false,
    },
    grid: { vertLines: { color: get("--grid") }, horzLines: { color: get("--grid") } },
  };
}

/** Markers sit on the candle a fill belongs to: its time floored to the interval. */
function markers(fills: ChartFill[], interval: string): SeriesMarker<Time>[] {
  const step = INTERVAL_SECONDS[interval] ?? 60;
  return [...fills]
    .sort((a, b) => a.time - b.time || a.id - b.id)
    .map((f) => {
      const buy = f.side === "buy";
      return {
        time: (Math.floor(f.time / 1000 / step) * step) as UTCTimestamp,
        position: buy ? "belowBar" : "aboveBar",
        shape: buy ? "arrowUp" : "arrowDown",
        color: buy ? UP : DOWN,
        text: `${buy ? "B" : "S"} ${f.size}`,
      } as SeriesMarker<Time>;
    });
}

export function CandleChart(props: {
  coin: string;
  interval: string;
  onError: (error: unknown) => void;
  fills?: ChartFill[];
  orders?: ChartOrder[];
}) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<IChartApi | null>(null);
  const [series, setSeries] = useState<ISeriesApi<"Candlestick"> | null>(null);
  const [marks, setMarks] = useState<ISeriesMarkersPluginApi<Time> | null>(null);
  const [drawn, setDrawn] = useState({ markers: 0, lines: 0 });
  const [refreshes, setRefreshes] = useState(0); // live candle updates applied (tests wait on it)
  const fills = props.fills ?? [];
  const orders = props.orders ?? [];

  useEffect(() => {
    let made: IChartApi | null = null;
    let gone = false;
    const scheme = matchMedia("(prefers-color-scheme: dark)");
    const recolour = () => made?.applyOptions(colours());
    library().then(({ createChart, createSeriesMarkers, CandlestickSeries, ColorType }) => {
      if (gone || !box.current) return;
      const options = colours();
      options.layout.background.type = ColorType.Solid as never;
      made = createChart(box.current, {
        autoSize: true,
        timeScale: { timeVisible: true, secondsVisible: false },
        ...options,
      });
      chart.current = made;
      scheme.addEventListener("change", recolour);
      const candles = made.addSeries(CandlestickSeries, {
        upColor: UP,
        downColor: DOWN,
        borderVisible: false,
        wickUpColor: UP,
        wickDownColor: DOWN,
      });
      setMarks(createSeriesMarkers(candles, []));
      setSeries(candles);
    }, props.onError);
    return () => {
      gone = true;
      scheme.removeEventListener("change", recolour);
      made?.remove();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    if (!series) return;
    let live = true;
    let first = true;
    let latest = 0; // time of the newest bar drawn
    const load = async () => {
      try {
        const candles = await api.candles(props.coin, props.interval);
        if (!live) return;
        if (first) {
          series.setData(candles.map(bar));
          chart.current?.timeScale().fitContent();
          latest = candles.length ? bar(candles[candles.length - 1]).time : 0;
          first = false;
        } else {
          // The one before the newest may have changed as it closed; the library refuses a
          // plain update older than its newest bar, so that one is a historical update.
          const bars = candles.map(bar);
          const tail = bars.slice(-2);
          if (tail.length && tail[0].time > latest) {
            series.setData(bars); // bars were missed (a throttled tab): draw them all again
          } else {
            for (const b of tail) series.update(b, b.time < latest);
          }
          latest = bars.length ? Math.max(latest, bars[bars.length - 1].time) : latest;
          setRefreshes((n) => n + 1);
        }
      } catch (error) {
        if (live) props.onError(error);
      }
    };
    load();
    const timer = window.setInterval(load, REFRESH_MS);
    return () => {
      live = false;
      window.clearInterval(timer);
    };
  }, [series, props.coin, props.interval]);

  // Fills: redrawn whole whenever the list or the interval changes (a few hundred at most).
  const fillKey = fills.map((f) => f.id).join(",");
  useEffect(() => {
    if (!marks) return;
    const list = markers(fills, props.interval);
    marks.setMarkers(list);
    setDrawn((d) => ({ ...d, markers: list.length }));
  }, [marks, fillKey, props.interval]);

  // Open orders: one price line each, removed when the order goes.
  const orderKey = orders.map((o) => `${o.oid}:${o.price}:${o.size}:${o.trigger}`).join(",");
  useEffect(() => {
    if (!series) return;
    const lines: IPriceLine[] = orders.map((o) =>
      series.createPriceLine({
        price: Number(o.price),
        color: o.side === "buy" ? UP : DOWN,
        lineWidth: 1,
        lineStyle: 2, // dashed
        axisLabelVisible: true,
        title: `${o.trigger ? "Trigger " : ""}${o.side === "buy" ? "buy" : "sell"} ${o.size}`,
      }),
    );
    setDrawn((d) => ({ ...d, lines: lines.length }));
    return () => {
      for (const line of lines) series.removePriceLine(line);
    };
  }, [series, orderKey]);

  return (
    <>
      <div
        class="chart"
        ref={box}
        data-testid="chart"
        data-markers={drawn.markers}
        data-price-lines={drawn.lines}
        data-refreshes={refreshes}
      />
      <ul class="sr-only" data-testid="chart-marks" aria-label={`Your ${props.coin} fills and open orders on the chart`}>
        {orders.map((o) => (
          <li key={`o${o.oid}`} data-kind={o.trigger ? "trigger" : "order"} data-side={o.side} data-price={o.price}>
            {o.trigger ? "Trigger" : "Open"} {o.side} order for {o.size} at {fmt.price(o.price)}
          </li>
        ))}
        {fills.map((f) => (
          <li key={`f${f.id}`} data-kind="fill" data-side={f.side} data-price={f.price} data-time={f.time}>
            {f.side === "buy" ? "Bought" : "Sold"} {f.size} at {fmt.price(f.price)}, {fmt.time(f.time)}
          </li>
        ))}
      </ul>
      <p class="attribution">
        Charts by{" "}
        <a href="https://www.tradingview.com/" target="_blank" rel="noreferrer">
          TradingView
        </a>
      </p>
    </>
  );
}
