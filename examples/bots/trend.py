"""Trend follower: a short/long moving-average crossover on candle closes, traded with IOC orders.

Each tick it fetches the last `long_window` candles, compares the mean close of the last
`short_window` with the mean of all of them, and wants to be long `size_usd` worth when the short
average is above the long one by more than `threshold_bps`, short when below (flat instead if
`allow_short` is false), and keeps its position otherwise. It moves to the target with one
market order (an IOC limit a little through the book, priced by the platform).

Standard library only; Decimal arithmetic; sizes to sz_decimals, each order worth at least $10.
"""

from decimal import ROUND_DOWN, Decimal

MIN_NOTIONAL = Decimal(10)
BPS = Decimal(10000)


def mean(values):
    return sum(values, Decimal(0)) / len(values)


class Bot:
    def __init__(self, api, config):
        self.api = api
        self.coin = config["coin"]
        self.interval = config.get("interval", "1m")
        self.short_window = int(config["short_window"])
        self.long_window = int(config["long_window"])
        self.threshold = Decimal(str(config["threshold_bps"])) / BPS
        self.size_usd = Decimal(str(config["size_usd"]))
        self.allow_short = bool(config.get("allow_short", True))
        self.sz_decimals = int(config.get("sz_decimals", 4))
        if not 0 < self.short_window < self.long_window:
            raise ValueError("short_window must be positive and below long_window")

    def on_start(self):
        self.on_tick()

    def on_tick(self):
        candles = self.api.candles(self.coin, self.interval, self.long_window)
        if len(candles) < self.long_window:
            self.api.log(f"only {len(candles)} candles so far, waiting", level="debug")
            return
        closes = [c["close"] for c in candles]
        fast, slow = mean(closes[-self.short_window :]), mean(closes)
        direction = self.direction(fast, slow)
        if direction is None:
            return
        mid = self.api.mid(self.coin)
        target = self.to_size(self.size_usd / mid) * direction
        current = self.position()
        delta = target - current
        if delta == 0 or abs(delta) * mid < MIN_NOTIONAL:
            return
        side = "buy" if delta > 0 else "sell"
        self.api.log(f"fast {fast:.2f} slow {slow:.2f}: {side} {abs(delta)} to reach {target}")
        try:
            result = self.api.place_order(self.coin, side, abs(delta), order_type="market")
        except Exception as exc:  # e.g. CAPITAL_LIMIT: try again next tick
            self.api.log(f"{side} refused: {exc}", level="warning")
            return
        self.api.log(f"{side} {result['status']}, filled {result['filled_size']}")

    def direction(self, fast, slow):
        """+1 long, -1 short, 0 flat, None to keep the position (inside the threshold band)."""
        if fast > slow * (1 + self.threshold):
            return 1
        if fast < slow * (1 - self.threshold):
            return -1 if self.allow_short else 0
        return None

    def position(self):
        for p in self.api.positions():
            if p["coin"] == self.coin:
                return p["size"]
        return Decimal(0)

    def to_size(self, size):
        return size.quantize(Decimal(1).scaleb(-self.sz_decimals), rounding=ROUND_DOWN)

    def on_fill(self, fill):
        self.api.log(f"fill {fill['side']} {fill['size']} @ {fill['price']}")
