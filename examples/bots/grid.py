"""Grid bot: a ladder of resting buys below a centre price and sells above it.

When a buy fills, the bot offers that size back one step higher; when a sell fills, it bids one
step lower. It earns the step on each round trip while the price oscillates, and accumulates a
position when the price trends (bounded by the bot's capital allocation).

Standard library only; every price and size is a Decimal, rounded to the exchange's rules:
prices to 5 significant figures and at most 6 - sz_decimals decimals (perps), sizes to
sz_decimals decimals, each order worth at least $10.
"""

from decimal import ROUND_DOWN, ROUND_UP, Decimal

MIN_NOTIONAL = Decimal(10)


def round_price(price, sz_decimals, side):
    """Round to a valid perp price, towards the passive side (buys down, sells up)."""
    decimals = max(0, min(4 - price.adjusted(), 6 - sz_decimals))
    rounding = ROUND_DOWN if side == "buy" else ROUND_UP
    return price.quantize(Decimal(1).scaleb(-decimals), rounding=rounding)


def size_for(usd, price, sz_decimals):
    """The smallest valid size worth at least `usd` (and at least $10) at `price`."""
    usd = max(usd, MIN_NOTIONAL)
    return (usd / price).quantize(Decimal(1).scaleb(-sz_decimals), rounding=ROUND_UP)


class Bot:
    def __init__(self, api, config):
        self.api = api
        self.coin = config["coin"]
        self.levels = int(config["levels"])
        self.step = Decimal(str(config["step_pct"])) / 100
        self.order_usd = Decimal(str(config["order_usd"]))
        self.sz_decimals = int(config.get("sz_decimals", 4))
        center = config.get("center")
        self.center = Decimal(str(center)) if center is not None else None
        self.orders = {}  # oid -> (side, price, size): the levels this bot placed

    def on_start(self):
        center = self.center if self.center is not None else self.api.mid(self.coin)
        self.api.log(f"grid around {center} on {self.coin}: {self.levels} levels a side")
        for i in range(1, self.levels + 1):
            self.place("buy", center * (1 - self.step * i))
            self.place("sell", center * (1 + self.step * i))

    def place(self, side, raw_price, size=None):
        price = round_price(raw_price, self.sz_decimals, side)
        if size is None:
            size = size_for(self.order_usd, price, self.sz_decimals)
        try:
            result = self.api.place_order(self.coin, side, size, price)
        except Exception as exc:  # e.g. CAPITAL_LIMIT: skip this level, keep the others
            self.api.log(f"{side} {size} @ {price} refused: {exc}", level="warning")
            return
        if result["status"] == "resting":
            self.orders[result["oid"]] = (side, price, size)
        self.api.log(f"{side} {size} @ {price}: {result['status']}")

    def on_fill(self, fill):
        level = self.orders.get(fill["oid"])
        self.api.log(f"fill {fill['side']} {fill['size']} @ {fill['price']}")
        if level is None:
            return
        side, price, size = level
        # Whole level filled? Then put the opposite order one step away.
        remaining = size - fill["size"]
        if remaining > 0:
            self.orders[fill["oid"]] = (side, price, remaining)
            return
        del self.orders[fill["oid"]]
        if side == "buy":
            self.place("sell", price * (1 + self.step), size)
        else:
            self.place("buy", price * (1 - self.step), size)

    def on_stop(self):
        self.api.log(f"grid stopping with {len(self.orders)} levels open")
