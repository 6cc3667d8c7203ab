// The candle chart (TradingView lightweight-charts), following the colour scheme and the latest
// candles. Prices arrive as exact strings; the chart only draws, so numbers are fine here.
// The library is loaded on first use, so the login page and other screens do not wait for it.
import type { IChartApi, ISeriesApi, UTCTimestamp } from "lightweight-charts";
import { useEffect, useRef, useState } from "preact/hooks";
import { api, type Candle } from "../api";

const REFRESH_MS = 5_000;
const library = () => import("lightweight-charts");

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

export function CandleChart(props: {
  coin: string;
  interval: string;
  onError: (error: unknown) => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<IChartApi | null>(null);
  const [series, setSeries] = useState<ISeriesApi<"Candlestick"> | null>(null);

  useEffect(() => {
    let made: IChartApi | null = null;
    let gone = false;
    const scheme = matchMedia("(prefers-color-scheme: dark)");
    const recolour = () => made?.applyOptions(colours());
    library().then(({ createChart, CandlestickSeries, ColorType }) => {
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
      setSeries(
        made.addSeries(CandlestickSeries, {
          upColor: "#16a34a",
          downColor: "#dc2626",
          borderVisible: false,
          wickUpColor: "#16a34a",
          wickDownColor: "#dc2626",
        }),
      );
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
    const load = async () => {
      try {
        const candles = await api.candles(props.coin, props.interval);
        if (!live) return;
        if (first) {
          series.setData(candles.map(bar));
          chart.current?.timeScale().fitContent();
          first = false;
        } else {
          for (const c of candles.slice(-2)) series.update(bar(c));
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

  return (
    <>
      <div class="chart" ref={box} data-testid="chart" />
      <p class="attribution">
        Charts by{" "}
        <a href="https://www.tradingview.com/" target="_blank" rel="noreferrer">
          TradingView
        </a>
      </p>
    </>
  );
}
