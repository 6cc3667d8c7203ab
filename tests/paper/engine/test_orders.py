"""Order placement, matching and the order-related info responses."""

from decimal import Decimal

from tests.paper.engine.conftest import ALICE, BOB, BTC, ETH, Desk

CLOID = "0x00000000000000000000000000000001"


def test_limit_order_rests_and_shows_in_open_orders(desk: Desk):
    status = desk.order(ALICE, ETH, True, "3480", "0.5", cloid=CLOID)
    oid = status["resting"]["oid"]
    assert status == {"resting": {"oid": oid, "cloid": CLOID}}
    [order] = desk.info(type="openOrders", user=ALICE, dex="")
    assert order == {
        "coin": "ETH",
        "side": "B",
        "limitPx": "3480.0",
        "sz": "0.5",
        "oid": oid,
        "timestamp": desk.clock.now_ms(),
        "origSz": "0.5",
        "cloid": CLOID,
    }
    [front] = desk.info(type="frontendOpenOrders", user=ALICE, dex="")
    assert front["orderType"] == "Limit"
    assert front["tif"] == "Gtc"
    assert front["isTrigger"] is False
    book = desk.info(type="l2Book", coin="ETH")
    assert {"px": "3480.0", "sz": "0.5", "n": 1} in book["levels"][0]


def test_market_order_fills_against_the_synthetic_ladder_within_slippage(desk: Desk):
    mid = desk.mid("BTC")
    limit = (mid * Decimal("1.05")).quantize(Decimal(1))
    status = desk.order(ALICE, BTC, True, str(limit), "2", tif="Ioc")
    filled = status["filled"]
    assert filled["totalSz"] == "2.0"
    assert mid < Decimal(filled["avgPx"]) <= limit
    fills = desk.info(type="userFills", user=ALICE)
    assert len(fills) > 1  # walked several levels
    assert len({f["hash"] for f in fills}) == 1
    tids = [f["tid"] for f in fills]
    assert len(set(tids)) == len(tids)
    assert all(f["crossed"] and f["dir"] == "Open Long" and f["feeToken"] == "USDC" for f in fills)
    assert desk.position(ALICE, "BTC")["szi"] == "2.0"


def test_alo_that_would_cross_is_rejected_and_changes_nothing(desk: Desk):
    before = desk.info(type="l2Book", coin="ETH")["levels"]
    ask = desk.info(type="l2Book", coin="ETH")["levels"][1][0]["px"]
    status = desk.order(ALICE, ETH, True, ask, "0.1", tif="Alo")
    assert status["error"].startswith("Post only order would have immediately matched, bbo was ")
    assert status["error"].endswith(" asset=1")
    assert desk.info(type="openOrders", user=ALICE) == []
    assert desk.info(type="l2Book", coin="ETH")["levels"] == before
    assert desk.state(ALICE)["assetPositions"] == []


def test_ioc_remainder_is_canceled_and_no_fill_is_an_error(desk: Desk):
    status = desk.order(ALICE, ETH, True, "3000", "0.1", tif="Ioc")
    assert status == {
        "error": "Order could not immediately match against any resting orders. asset=1"
    }
    bob = desk.order(BOB, ETH, False, "3500", "0.2")  # inside the synthetic spread
    oid = bob["resting"]["oid"]
    status = desk.order(ALICE, ETH, True, "3500", "0.5", tif="Ioc")
    assert status["filled"]["totalSz"] == "0.2"
    assert desk.info(type="openOrders", user=ALICE) == []
    assert desk.info(type="orderStatus", user=BOB, oid=oid)["order"]["status"] == "filled"


def test_user_orders_match_each_other_first_and_pay_maker_taker_fees(desk: Desk):
    maker = desk.order(BOB, ETH, False, "3500", "1")  # at mid, inside the synthetic spread
    status = desk.order(ALICE, ETH, True, "3600", "1", tif="Ioc")
    assert status["filled"] == {"totalSz": "1.0", "avgPx": "3500.0", "oid": status["filled"]["oid"]}
    [bob_fill] = desk.info(type="userFills", user=BOB)
    [alice_fill] = desk.info(type="userFills", user=ALICE)
    assert bob_fill["oid"] == maker["resting"]["oid"]
    assert bob_fill["crossed"] is False
    assert alice_fill["crossed"] is True
    assert bob_fill["fee"] == "0.525"
    assert alice_fill["fee"] == "1.575"
    assert bob_fill["tid"] == alice_fill["tid"]
    assert bob_fill["dir"] == "Open Short"
    assert bob_fill["side"] == "A"
    [trades] = [e for e in desk.channel("trades") if e.key == "ETH"]
    assert trades.data[0]["users"] == [ALICE, BOB]


def test_self_trade_prevention_cancels_the_resting_order(desk: Desk):
    resting = desk.order(ALICE, ETH, False, "3500", "1")["resting"]["oid"]
    status = desk.order(ALICE, ETH, True, "3600", "1", tif="Ioc")
    assert "filled" in status
    assert all(f["oid"] != resting for f in desk.info(type="userFills", user=ALICE))
    order = desk.info(type="orderStatus", user=ALICE, oid=resting)["order"]
    assert order["status"] == "selfTradeCanceled"


def test_reduce_only_never_increases_a_position(desk: Desk):
    status = desk.order(ALICE, ETH, False, "3000", "0.1", tif="Ioc", reduce_only=True)
    assert status == {"error": "Reduce only order would increase position. asset=1"}
    desk.order(ALICE, ETH, True, "3700", "0.5", tif="Ioc")
    status = desk.order(ALICE, ETH, False, "3300", "2", tif="Ioc", reduce_only=True)
    assert status["filled"]["totalSz"] == "0.5"
    assert desk.position(ALICE, "ETH") is None
    fills = desk.info(type="userFills", user=ALICE)
    assert fills[0]["dir"] == "Close Long"
    assert fills[0]["startPosition"] == "0.5"


def test_per_order_validation_errors_change_nothing(desk: Desk):
    cases = [
        (("3500.123", "1"), "Price must be divisible by tick size. asset=1"),
        (("3500", "0.00001"), "Order has invalid size. asset=1"),
        (("3500", "0.001"), "Order must have minimum value of $10. asset=1"),
        (("3400", "1000"), "Insufficient margin to place order. asset=1"),
    ]
    for (px, sz), error in cases:
        assert desk.order(ALICE, ETH, True, px, sz) == {"error": error}
    assert desk.order(ALICE, 99, True, "1", "1")["error"].startswith("Order has invalid asset.")
    assert desk.info(type="openOrders", user=ALICE) == []
    assert desk.state(ALICE)["marginSummary"]["accountValue"] == "100000.0"
    assert desk.info(type="userFills", user=ALICE) == []


def test_malformed_order_action_is_a_whole_request_error(desk: Desk):
    response = desk.act(ALICE, {"type": "order", "orders": [{"a": 1}], "grouping": "na"})
    assert response["status"] == "err"
    assert response["response"].startswith("Failed to deserialize the JSON body")


def test_cancel_and_cancel_by_cloid(desk: Desk):
    oid = desk.order(ALICE, ETH, True, "3000", "0.5")["resting"]["oid"]
    desk.order(ALICE, ETH, True, "3001", "0.5", cloid=CLOID)
    response = desk.act(
        ALICE, {"type": "cancel", "cancels": [{"a": ETH, "o": oid}, {"a": ETH, "o": oid}]}
    )
    assert response["response"] == {
        "type": "cancel",
        "data": {
            "statuses": [
                "success",
                {"error": "Order was never placed, already canceled, or filled. asset=1"},
            ]
        },
    }
    response = desk.act(
        ALICE, {"type": "cancelByCloid", "cancels": [{"asset": ETH, "cloid": CLOID}]}
    )
    assert response["response"]["data"]["statuses"] == ["success"]
    assert desk.info(type="openOrders", user=ALICE) == []
    status = desk.info(type="orderStatus", user=ALICE, oid=CLOID)
    assert status["order"]["status"] == "canceled"
    assert status["order"]["order"]["cloid"] == CLOID


def test_modify_and_batch_modify(desk: Desk):
    oid = desk.order(ALICE, ETH, True, "3000", "0.5", cloid=CLOID)["resting"]["oid"]
    new_wire = {
        "a": ETH,
        "b": True,
        "p": "3100",
        "s": "0.7",
        "r": False,
        "t": {"limit": {"tif": "Gtc"}},
        "c": CLOID,
    }
    response = desk.act(
        ALICE, {"type": "batchModify", "modifies": [{"oid": oid, "order": new_wire}]}
    )
    [status] = response["response"]["data"]["statuses"]
    new_oid = status["resting"]["oid"]
    [order] = desk.info(type="openOrders", user=ALICE)
    assert order["limitPx"] == "3100.0"
    assert order["sz"] == "0.7"
    assert order["oid"] == new_oid
    bad = dict(new_wire, p="3100.123")
    response = desk.act(ALICE, {"type": "batchModify", "modifies": [{"oid": CLOID, "order": bad}]})
    assert "error" in response["response"]["data"]["statuses"][0]
    [unchanged] = desk.info(type="openOrders", user=ALICE)
    assert unchanged["oid"] == new_oid
    response = desk.act(
        ALICE, {"type": "modify", "oid": new_oid, "order": dict(new_wire, p="3050")}
    )
    assert response == {"status": "ok", "response": {"type": "default"}}
    [moved] = desk.info(type="openOrders", user=ALICE)
    assert moved["limitPx"] == "3050.0"


def test_resting_order_fills_when_set_price_moves_through_it(desk: Desk):
    oid = desk.order(ALICE, ETH, True, "3400", "1")["resting"]["oid"]
    desk.ex.set_price("ETH", Decimal("3390"))
    [fill] = desk.info(type="userFills", user=ALICE)
    assert fill["oid"] == oid
    assert fill["px"] == "3400.0"
    assert fill["crossed"] is False
    assert fill["fee"] == "0.51"
    assert desk.info(type="openOrders", user=ALICE) == []
    assert desk.position(ALICE, "ETH")["entryPx"] == "3400.0"


def test_stop_loss_trigger_fires_on_mark(desk: Desk):
    desk.order(ALICE, ETH, True, "3700", "1", tif="Ioc")
    trigger = {"isMarket": True, "triggerPx": "3300", "tpsl": "sl"}
    status = desk.order(ALICE, ETH, False, "3300", "1", reduce_only=True, trigger=trigger)
    oid = status["resting"]["oid"]
    [front] = desk.info(type="frontendOpenOrders", user=ALICE)
    assert front["triggerCondition"] == "Price below 3300.0"
    assert front["orderType"] == "Stop Market"
    assert front["tif"] is None
    assert front["isTrigger"]
    assert desk.info(type="l2Book", coin="ETH")["levels"][1][0]["px"] != "3300.0"
    desk.ex.set_price("ETH", Decimal("3350"))
    assert desk.position(ALICE, "ETH") is not None
    desk.ex.set_price("ETH", Decimal("3290"))
    assert desk.position(ALICE, "ETH") is None
    assert desk.info(type="orderStatus", user=ALICE, oid=oid)["order"]["status"] == "filled"
    statuses = [
        u["status"]
        for e in desk.channel("orderUpdates")
        for u in e.data
        if u["order"]["oid"] == oid
    ]
    assert statuses == ["open", "triggered", "filled"]


def test_take_profit_limit_trigger(desk: Desk):
    desk.order(ALICE, ETH, True, "3700", "1", tif="Ioc")
    trigger = {"isMarket": False, "triggerPx": "3600", "tpsl": "tp"}
    desk.order(ALICE, ETH, False, "3590", "1", reduce_only=True, trigger=trigger)
    desk.ex.set_price("ETH", Decimal("3601"))
    assert desk.position(ALICE, "ETH") is None


def test_normal_tpsl_children_wait_for_the_parent(desk: Desk):
    wires = [
        {"a": ETH, "b": True, "p": "3400", "s": "1", "r": False, "t": {"limit": {"tif": "Gtc"}}},
        {
            "a": ETH,
            "b": False,
            "p": "3000",
            "s": "1",
            "r": True,
            "t": {"trigger": {"isMarket": True, "triggerPx": "3000", "tpsl": "sl"}},
        },
    ]
    response = desk.act(ALICE, {"type": "order", "orders": wires, "grouping": "normalTpsl"})
    statuses = response["response"]["data"]["statuses"]
    assert "resting" in statuses[0]
    assert statuses[1] == "waitingForFill"
    desk.ex.set_price("ETH", Decimal("3390"))
    [stop] = desk.info(type="frontendOpenOrders", user=ALICE)
    assert stop["isTrigger"]
    assert stop["orderType"] == "Stop Market"


def test_schedule_cancel(desk: Desk):
    desk.order(ALICE, ETH, True, "3000", "0.5")
    now = desk.clock.now_ms()
    too_soon = desk.act(ALICE, {"type": "scheduleCancel", "time": now + 1000})
    assert too_soon["status"] == "err"
    assert desk.act(ALICE, {"type": "scheduleCancel", "time": now + 10_000})["status"] == "ok"
    desk.clock.advance(seconds=9)
    desk.ex.tick()
    assert len(desk.info(type="openOrders", user=ALICE)) == 1
    desk.clock.advance(seconds=2)
    desk.ex.tick()
    assert desk.info(type="openOrders", user=ALICE) == []
    [entry] = desk.info(type="historicalOrders", user=ALICE)
    assert entry["status"] == "scheduledCancel"


def test_fills_by_time_and_order_status(desk: Desk):
    start = desk.clock.now_ms()
    oid = desk.order(ALICE, ETH, True, "3700", "0.1", tif="Ioc", cloid=CLOID)["filled"]["oid"]
    desk.clock.advance(seconds=60)
    desk.order(ALICE, ETH, True, "3700", "0.1", tif="Ioc")
    fills = desk.info(
        type="userFillsByTime", user=ALICE, startTime=start, endTime=None, aggregateByTime=False
    )
    assert len(fills) == 2
    assert fills[0]["time"] < fills[1]["time"]
    assert fills[0]["cloid"] == CLOID
    assert "cloid" not in fills[1]
    only_first = desk.info(type="userFillsByTime", user=ALICE, startTime=start, endTime=start + 1)
    assert len(only_first) == 1
    by_oid = desk.info(type="orderStatus", user=ALICE, oid=oid)
    by_cloid = desk.info(type="orderStatus", user=ALICE, oid=CLOID)
    assert by_oid == by_cloid
    assert by_oid["order"]["order"]["origSz"] == "0.1"
    assert desk.info(type="orderStatus", user=ALICE, oid=12345) == {"status": "unknownOid"}


def test_spot_market_buy_moves_balances(desk: Desk):
    transfer = {"type": "usdClassTransfer", "amount": "1000", "toPerp": False, "nonce": 1}
    assert desk.act(ALICE, transfer)["status"] == "ok"
    status = desk.order(ALICE, 10000, True, "0.21", "1000", tif="Ioc")
    assert status["filled"]["totalSz"] == "1000.0"
    balances = {
        b["coin"]: b for b in desk.info(type="spotClearinghouseState", user=ALICE)["balances"]
    }
    assert balances["PURR"]["total"] == "999.3"  # the 0.07 % taker fee is paid in PURR
    fill = desk.info(type="userFills", user=ALICE)[0]
    assert (fill["dir"], fill["feeToken"], fill["fee"]) == ("Buy", "PURR", "0.7")
    assert Decimal(balances["USDC"]["total"]) == 1000 - 1000 * Decimal(fill["px"])
