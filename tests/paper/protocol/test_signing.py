"""Server-side signature recovery against the published test vectors (protocol reference §5.6, A)."""

from __future__ import annotations

import eth_account
import pytest
from hyperliquid.utils import signing as sdk_signing

from hyperdesk.paper import signing

TEST_KEY = "0x0123456789012345678901234567890123456789012345678901234567890123"
TEST_ADDRESS = "0x14791697260e4c9a71f18484c9f997b308e59325"
VAULT = "0x1719884eb866cb12b2287399b15f7db5e7d775ea"

ORDER = {
    "type": "order",
    "orders": [
        {"a": 1, "b": True, "p": "100", "s": "100", "r": False, "t": {"limit": {"tif": "Gtc"}}}
    ],
    "grouping": "na",
}
ORDER_WITH_CLOID = {
    "type": "order",
    "orders": [
        {
            "a": 1,
            "b": True,
            "p": "100",
            "s": "100",
            "r": False,
            "t": {"limit": {"tif": "Gtc"}},
            "c": "0x00000000000000000000000000000001",
        }
    ],
    "grouping": "na",
}
TRIGGER_ORDER = {
    "type": "order",
    "orders": [
        {
            "a": 1,
            "b": True,
            "p": "100",
            "s": "100",
            "r": False,
            "t": {"trigger": {"isMarket": True, "triggerPx": "103", "tpsl": "sl"}},
        }
    ],
    "grouping": "na",
}
DUMMY = {"type": "dummy", "num": 100000000000}
SUB_TRANSFER = {
    "type": "subAccountTransfer",
    "subAccountUser": "0x1d9470d4b963f552e6f671a81619d395877bf409",
    "isDeposit": True,
    "usd": 10,
}

# (action, vault, is_mainnet, r, s, v) — §5.6, every row; nonce 0, no expiry.
L1_VECTORS = [
    (DUMMY, None, True, "0x53749d5b30552aeb2fca34b530185976545bb22d0b3ce6f62e31be961a59298", "0x755c40ba9bf05223521753995abb2f73ab3229be8ec921f350cb447e384d8ed8", 27),
    (DUMMY, None, False, "0x542af61ef1f429707e3c76c5293c80d01f74ef853e34b76efffcb57e574f9510", "0x17b8b32f086e8cdede991f1e2c529f5dd5297cbe8128500e00cbaf766204a613", 28),
    (DUMMY, VAULT, True, "0x3c548db75e479f8012acf3000ca3a6b05606bc2ec0c29c50c515066a326239", "0x4d402be7396ce74fbba3795769cda45aec00dc3125a984f2a9f23177b190da2c", 28),
    (DUMMY, VAULT, False, "0xe281d2fb5c6e25ca01601f878e4d69c965bb598b88fac58e475dd1f5e56c362b", "0x7ddad27e9a238d045c035bc606349d075d5c5cd00a6cd1da23ab5c39d4ef0f60", 27),
    (ORDER, None, True, "0xd65369825a9df5d80099e513cce430311d7d26ddf477f5b3a33d2806b100d78e", "0x2b54116ff64054968aa237c20ca9ff68000f977c93289157748a3162b6ea940e", 28),
    (ORDER, None, False, "0x82b2ba28e76b3d761093aaded1b1cdad4960b3af30212b343fb2e6cdfa4e3d54", "0x6b53878fc99d26047f4d7e8c90eb98955a109f44209163f52d8dc4278cbbd9f5", 27),
    (ORDER_WITH_CLOID, None, True, "0x41ae18e8239a56cacbc5dad94d45d0b747e5da11ad564077fcac71277a946e3", "0x3c61f667e747404fe7eea8f90ab0e76cc12ce60270438b2058324681a00116da", 27),
    (ORDER_WITH_CLOID, None, False, "0xeba0664bed2676fc4e5a743bf89e5c7501aa6d870bdb9446e122c9466c5cd16d", "0x7f3e74825c9114bc59086f1eebea2928c190fdfbfde144827cb02b85bbe90988", 28),
    (TRIGGER_ORDER, None, True, "0x98343f2b5ae8e26bb2587daad3863bc70d8792b09af1841b6fdd530a2065a3f9", "0x6b5bb6bb0633b710aa22b721dd9dee6d083646a5f8e581a20b545be6c1feb405", 27),
    (TRIGGER_ORDER, None, False, "0x971c554d917c44e0e1b6cc45d8f9404f32172a9d3b3566262347d0302896a2e4", "0x206257b104788f80450f8e786c329daa589aa0b32ba96948201ae556d5637eac", 28),
    ({"type": "createSubAccount", "name": "example"}, None, True, "0x51096fe3239421d16b671e192f574ae24ae14329099b6db28e479b86cdd6caa7", "0xb71f7d293af92d3772572afb8b102d167a7cef7473388286bc01f52a5c5b423", 27),
    ({"type": "createSubAccount", "name": "example"}, None, False, "0xa699e3ed5c2b89628c746d3298b5dc1cca604694c2c855da8bb8250ec8014a5b", "0x53f1b8153a301c72ecc655b1c315d64e1dcea3ee58921fd7507e35818fcc1584", 28),
    (SUB_TRANSFER, None, True, "0x43592d7c6c7d816ece2e206f174be61249d651944932b13343f4d13f306ae602", "0x71a926cb5c9a7c01c3359ec4c4c34c16ff8107d610994d4de0e6430e5cc0f4c9", 28),
    (SUB_TRANSFER, None, False, "0xe26574013395ad55ee2f4e0575310f003c5bb3351b5425482e2969fa51543927", "0xefb08999196366871f919fd0e138b3a7f30ee33e678df7cfaf203e25f0a4278", 28),
    ({"type": "scheduleCancel"}, None, True, "0x6cdfb286702f5917e76cd9b3b8bf678fcc49aec194c02a73e6d4f16891195df9", "0x6557ac307fa05d25b8d61f21fb8a938e703b3d9bf575f6717ba21ec61261b2a0", 27),
    ({"type": "scheduleCancel"}, None, False, "0xc75bb195c3f6a4e06b7d395acc20bbb224f6d23ccff7c6a26d327304e6efaeed", "0x342f8ede109a29f2c0723bd5efb9e9100e3bbb493f8fb5164ee3d385908233df", 28),
    ({"type": "scheduleCancel", "time": 123456789}, None, True, "0x609cb20c737945d070716dcc696ba030e9976fcf5edad87afa7d877493109d55", "0x16c685d63b5c7a04512d73f183b3d7a00da5406ff1f8aad33f8ae2163bab758b", 28),
    ({"type": "scheduleCancel", "time": 123456789}, None, False, "0x4e4f2dbd4107c69783e251b7e1057d9f2b9d11cee213441ccfa2be63516dc5bc", "0x706c656b23428c8ba356d68db207e11139ede1670481a9e01ae2dfcdb0e1a678", 27),
]  # fmt: skip


@pytest.mark.parametrize(("action", "vault", "is_mainnet", "r", "s", "v"), L1_VECTORS)
def test_l1_vectors_recover_the_test_key(action, vault, is_mainnet, r, s, v):
    signer = signing.recover_l1_signer(
        action,
        {"r": r, "s": s, "v": v},
        nonce=0,
        vault_address=vault,
        expires_after=None,
        is_mainnet=is_mainnet,
    )
    assert signer == TEST_ADDRESS


def test_l1_vector_checked_on_the_other_network_recovers_another_address():
    _, _, _, r, s, v = L1_VECTORS[5]  # testnet order
    signer = signing.recover_l1_signer(
        ORDER, {"r": r, "s": s, "v": v}, nonce=0, vault_address=None, expires_after=None,
        is_mainnet=True,
    )  # fmt: skip
    assert signer != TEST_ADDRESS


def test_order_action_hash_and_msgpack_bytes_match_the_reference():
    assert signing.action_hash(ORDER, None, 0, None).hex() == (
        "884f2c32bb6dbdd65f6033e32fb28c0cb6f5b345db0f6471fd3366d85c9252c1"
    )
    ioc = {
        "type": "order",
        "orders": [{"a": 4, "b": True, "p": "1670.1", "s": "0.0147", "r": False, "t": {"limit": {"tif": "Ioc"}}}],
        "grouping": "na",
    }  # fmt: skip
    assert signing.action_hash(ioc, None, 1677777606040, None).hex() == (
        "0fcbeda5ae3c4950a548021552a4fea2226858c4453571bf3f24ba017eac2908"
    )


USD_SEND = {
    "destination": "0x5e9ee1089755c3435139848e47e6635505d5a13a",
    "amount": "1",
    "time": 1687816341423,
    "type": "usdSend",
    "signatureChainId": "0x66eee",
    "hyperliquidChain": "Testnet",
}


@pytest.mark.parametrize(
    ("action", "r", "s", "v"),
    [
        (USD_SEND, "0x637b37dd731507cdd24f46532ca8ba6eec616952c56218baeff04144e4a77073", "0x11a6a24900e6e314136d2592e2f8d502cd89b7c15b198e1bee043c9589f9fad7", 27),
        ({**USD_SEND, "type": "withdraw3"}, "0x8363524c799e90ce9bc41022f7c39b4e9bdba786e5f9c72b20e43e1462c37cf9", "0x58b1411a775938b83e29182e8ef74975f9054c8e97ebf5ec2dc8d51bfc893881", 28),
    ],
)  # fmt: skip
def test_user_signed_vectors_recover_the_test_key(action, r, s, v):
    signer = signing.recover_user_signed_signer(action, {"r": r, "s": s, "v": v}, is_mainnet=False)
    assert signer == TEST_ADDRESS


# Appendix A: complete envelopes produced by SDK 0.24.0 against a local URL.
APPENDIX_A = [
    (
        {"type": "order", "orders": [{"a": 1, "b": True, "p": "1100", "s": "0.2", "r": False, "t": {"limit": {"tif": "Gtc"}}}], "grouping": "na"},
        1795480205418, None,
        {"r": "0x58b02248cd6c0bf43f0fb670dad7219386ffc8f08d76737ecbebf8b3b638fa6f", "s": "0x5d172cda00de923fbba69b7922fba992b5aade35bd6d2099be3751799c96095e", "v": 27},
    ),
    (
        {"type": "cancel", "cancels": [{"a": 1, "o": 123}]},
        1795480205733, 1795480265733,
        {"r": "0xa31b6ce092e69531c93a237099e9476516d92a7bde603192a7e4765d5ed54510", "s": "0x4b8af3400fd9bdec8aef91a2549bd60a2040486d8cb6b35b17f8debb4b2ec107", "v": 28},
    ),
    (
        {"destination": "0x0000000000000000000000000000000000000000", "amount": "1.5", "time": 1795480205528, "type": "usdSend", "signatureChainId": "0x66eee", "hyperliquidChain": "Testnet"},
        1795480205528, None,
        {"r": "0x680bb37cb4b15f13e7bf26c2dca2d2b4cbc0f029b6f049a056a8a4d100826903", "s": "0x28761deb698784e701704127107b4f85696c0ee36b764db393fc99fce52c79dd", "v": 28},
    ),
    (
        {"type": "approveAgent", "agentAddress": "0xa22E7bDd47126cB63c99c1295880a21D5d8342fB", "nonce": 1795480205517, "signatureChainId": "0x66eee", "hyperliquidChain": "Testnet"},
        1795480205517, None,
        {"r": "0x75a34872a59452cd11f383870b25e742fa256417998370e33901ccefb74a1fef", "s": "0x3bb48bfa6eb1280009086aa23933f8fad66e2f80471222a629c1b2f3b4d2b156", "v": 28},
    ),
]  # fmt: skip


def _recover(action, nonce, expires_after, signature):
    if signing.is_user_signed(action["type"]):
        return signing.recover_user_signed_signer(action, signature, is_mainnet=False)
    return signing.recover_l1_signer(
        action, signature, nonce=nonce, vault_address=None, expires_after=expires_after,
        is_mainnet=False,
    )  # fmt: skip


@pytest.mark.parametrize(("action", "nonce", "expires_after", "signature"), APPENDIX_A)
def test_appendix_a_envelopes_recover_the_test_key(action, nonce, expires_after, signature):
    assert _recover(action, nonce, expires_after, signature) == TEST_ADDRESS


def test_expires_after_is_part_of_the_l1_hash():
    action, nonce, _, signature = APPENDIX_A[1]
    assert _recover(action, nonce, None, signature) != TEST_ADDRESS


def test_key_order_of_the_received_action_is_part_of_the_l1_hash():
    action, nonce, _, signature = APPENDIX_A[0]
    reordered = {"grouping": action["grouping"], "type": "order", "orders": action["orders"]}
    assert _recover(reordered, nonce, None, signature) != TEST_ADDRESS


USER_SIGNERS = [
    ("usd_transfer", sdk_signing.sign_usd_transfer_action, {"destination": "0xAbC0000000000000000000000000000000000001", "amount": "1.5", "time": 1_700_000_000_000, "type": "usdSend"}),
    ("spot_transfer", sdk_signing.sign_spot_transfer_action, {"destination": "0x0000000000000000000000000000000000000002", "amount": "2", "token": "PURR:0xc1fb593aeffbeb02f85e0308e9956a90", "time": 1_700_000_000_001, "type": "spotSend"}),
    ("withdraw", sdk_signing.sign_withdraw_from_bridge_action, {"destination": "0x0000000000000000000000000000000000000003", "amount": "3", "time": 1_700_000_000_002, "type": "withdraw3"}),
    ("usd_class_transfer", sdk_signing.sign_usd_class_transfer_action, {"type": "usdClassTransfer", "amount": "10", "toPerp": True, "nonce": 1_700_000_000_003}),
    ("send_asset", sdk_signing.sign_send_asset_action, {"type": "sendAsset", "destination": "0x0000000000000000000000000000000000000004", "sourceDex": "", "destinationDex": "spot", "token": "USDC:0x6d1e7cde53ba9467b783cb7c530ce054", "amount": "1.0", "fromSubAccount": "", "nonce": 1_700_000_000_004}),
    ("token_delegate", sdk_signing.sign_token_delegate_action, {"validator": "0x5ac99df645f3414876c816caa18b2d234024b487", "wei": 100_000_000, "isUndelegate": False, "nonce": 1_700_000_000_005, "type": "tokenDelegate"}),
    ("approve_agent", sdk_signing.sign_agent, {"type": "approveAgent", "agentAddress": "0xa22E7bDd47126cB63c99c1295880a21D5d8342fB", "agentName": "bot", "nonce": 1_700_000_000_006}),
    ("approve_builder_fee", sdk_signing.sign_approve_builder_fee, {"maxFeeRate": "0.001%", "builder": "0x8c967E73E7B15087c42A10D344cFf4c96D877f1D", "nonce": 1_700_000_000_007, "type": "approveBuilderFee"}),
    ("user_dex_abstraction", sdk_signing.sign_user_dex_abstraction_action, {"type": "userDexAbstraction", "user": "0x14791697260e4c9a71f18484c9f997b308e59325", "enabled": True, "nonce": 1_700_000_000_008}),
]  # fmt: skip


@pytest.mark.parametrize(("name", "sign", "action"), USER_SIGNERS, ids=[u[0] for u in USER_SIGNERS])
def test_every_user_signed_type_the_sdk_signs_is_recovered(name, sign, action):
    wallet = eth_account.Account.from_key(TEST_KEY)
    posted = dict(action)
    signature = sign(wallet, posted, False)  # mutates: adds signatureChainId/hyperliquidChain
    assert signing.recover_user_signed_signer(posted, signature, is_mainnet=False) == TEST_ADDRESS


def test_changed_amount_string_recovers_another_address():
    action, _, _, signature = APPENDIX_A[2]
    assert _recover({**action, "amount": "1.50"}, 0, None, signature) != TEST_ADDRESS


def test_short_r_is_accepted_and_bad_v_rejected():
    assert signing.parse_signature({"r": "0x1", "s": "0x2", "v": 27}) == (27, 1, 2)
    with pytest.raises(signing.SignatureError):
        signing.parse_signature({"r": "0x1", "s": "0x2", "v": 29})
    with pytest.raises(signing.SignatureError):
        signing.parse_signature({"r": "zz", "s": "0x2", "v": 27})


def test_user_signed_action_missing_a_signed_field_is_malformed():
    action = {k: v for k, v in USD_SEND.items() if k != "amount"}
    with pytest.raises(signing.SignatureError):
        signing.recover_user_signed_signer(
            action, {"r": "0x1", "s": "0x2", "v": 27}, is_mainnet=False
        )
