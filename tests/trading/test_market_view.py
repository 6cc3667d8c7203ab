from __future__ import annotations

from decimal import Decimal

from hyperdesk.trading.market_view import MarketView


def test_mids_from_the_stream_are_kept_as_exact_decimals():
    view = MarketView()
    view.update_mids({"ETH": "3500.5", "BTC": "100000.0", "BAD": "not a number"})
    view.update_mids({"ETH": "3501"})
    assert view.mid("ETH") == Decimal("3501")
    assert view.mid("BTC") == Decimal("100000.0")
    assert view.mid("BAD") is None
    assert view.mid("SOL") is None


def test_without_a_stream_no_account_is_streamed():
    assert MarketView().stream_mode("0xabc") is None
