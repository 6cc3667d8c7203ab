"""Market maker: one bid and one ask around the mid, cancelled and replaced when the mid moves.

Each tick it reads the mid; if it has moved more than `requote_bps` since the quotes were placed
(or a quote has gone, e.g. filled), it cancels what is left and quotes again at
mid x (1 -/+ half_spread_bps). It stops bidding once its long reaches `max_position` and stops
offering once its short does, so inventory stays bounded.

Standard library only; Decimal arithmetic; prices to 5 significant figures and at most
6 - sz_decimals decimals, sizes to sz_decimals, each order worth at least $10.
"""

from decimal import ROUND_DOWN, ROUND_UP, Decimal

MIN_NOTIONAL = Decimal(10)
BPS = Decimal(10000)


def round_price(price, sz_decimals, side):
    """Round to a valid perp price, towards the passive side (bids down, asks up)."""
    decimals = max(0, min(4 - price.adjusted(), 6 - sz_decimals))
    rounding = ROUND_DOWN if side == "buy" else ROUND_UP
    return price.quantize(Decimal(1).scaleb(-decimals), rounding=rounding)


def size_for(usd, price, sz_decimals):
    usd = max(usd, MIN_NOTIONAL)
    return (usd / price).quantize(Decimal(1).scaleb(-sz_decimals), rounding=ROUND_UP)


class Bot:
    def __init__(self, api, config):
        self.api = api
        self.coin = config["coin"]
        self.half_spread = Decimal(str(config["half_spread_bps"])) / BPS
        self.requote = Decimal(str(config["requote_bps"])) / BPS
        self.order_usd = Decimal(str(config["order_usd"]))
        self.max_position = Decimal(str(config["max_position"]))
        self.sz_decimals = int(config.get("sz_decimals", 4))
        self.quoted_mid = None
        self.quotes = {}  # side -> oid of the live quote

    def on_start(self):
        self.refresh()

    def on_tick(self):
        self.refresh()

    def on_fill(self, fill):
        self.api.log(f"fill {fill['side']} {fill['size']} @ {fill['price']}")

    def position(self):
        for p in self.api.positions():
            if p["coin"] == self.coin:
                return p["size"]
        return Decimal(0)

    def refresh(self):
        mid = self.api.mid(self.coin)
        live = {o["oid"] for o in self.api.open_orders() if o["coin"] == self.coin}
        intact = all(oid in live for oid in self.quotes.values()) and self.quotes
        if intact and abs(mid - self.quoted_mid) <= self.quoted_mid * self.requote:
            return
        for oid in live:
            try:
                self.api.cancel(self.coin, oid)
            except Exception as exc:  # already filled or gone: nothing to cancel
                self.api.log(f"cancel {oid}: {exc}", level="debug")
        self.quotes = {}
        self.quoted_mid = mid
        position = self.position()
        if position < self.max_position:
            self.quote("buy", mid * (1 - self.half_spread))
        if position > -self.max_position:
            self.quote("sell", mid * (1 + self.half_spread))
        self.api.log(f"quoted around {mid}: {sorted(self.quotes.items())}")

    def quote(self, side, raw_price):
        price = round_price(raw_price, self.sz_decimals, side)
        size = size_for(self.order_usd, price, self.sz_decimals)
        try:
            result = self.api.place_order(self.coin, side, size, price, tif="Alo")
        except Exception as exc:  # e.g. CAPITAL_LIMIT, or post-only would cross
            self.api.log(f"{side} {size} @ {price} refused: {exc}", level="warning")
            return
        if result["status"] == "resting":
            self.quotes[side] = result["oid"]
