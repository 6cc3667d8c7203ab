"""The desk's L1 signer signs exactly what the SDK would, byte for byte, for every action shape
the desk sends; the paper exchange (which verifies like Hyperliquid) accepts it."""

from __future__ import annotations

import pickle
import random

import eth_account
import pytest
from hyperliquid.utils.signing import sign_l1_action

from hyperdesk.exchange.l1_signing import L1Signer


def _actions(rng: random.Random) -> list[dict]:
    cloid = "0x" + f"{rng.getrandbits(128):032x}"
    order = {
        "a": rng.randint(0, 200),
        "b": rng.random() < 0.5,
        "p": str(rng.randint(1, 99_999)),
        "s": f"0.{rng.randint(1, 9999)}",
        "r": rng.random() < 0.5,
        "t": {"limit": {"tif": rng.choice(["Gtc", "Ioc", "Alo"])}},
        "c": cloid,
    }
    return [
        {"type": "order", "orders": [order], "grouping": "na"},
        {"type": "cancel", "cancels": [{"a": order["a"], "o": rng.randint(1, 2**40)}]},
        {"type": "cancelByCloid", "cancels": [{"asset": order["a"], "cloid": cloid}]},
        {"type": "batchModify", "modifies": [{"oid": rng.randint(1, 2**40), "order": order}]},
        {"type": "updateLeverage", "asset": order["a"], "isCross": True, "leverage": 5},
    ]


@pytest.mark.parametrize("is_mainnet", [False, True])
def test_signatures_are_identical_to_the_sdks(is_mainnet):
    rng = random.Random(7)
    for _ in range(20):
        account = eth_account.Account.create()
        signer = L1Signer(bytes(account.key))
        for action in _actions(rng):
            nonce = rng.randint(1_700_000_000_000, 1_900_000_000_000)
            expires = rng.choice([None, nonce + 60_000])
            expected = sign_l1_action(account, action, None, nonce, expires, is_mainnet)
            got = signer.sign(action, nonce, is_mainnet=is_mainnet, expires_after=expires)
            assert got == expected


def test_the_key_never_shows():
    account = eth_account.Account.create()
    signer = L1Signer(bytes(account.key))
    assert account.key.hex().removeprefix("0x") not in repr(signer)
    with pytest.raises(TypeError):
        pickle.dumps(signer)
