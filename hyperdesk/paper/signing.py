"""Server-side signature recovery for Hyperliquid actions.

Hyperliquid never sends the signer's address: the server recovers it from the signature. A wrong
signature therefore does not fail here, it recovers some other address, and the caller then answers
"User or API Wallet 0x… does not exist." exactly like the real exchange.

Two families (protocol reference §5):

* L1 actions (orders, cancels, leverage, vault transfers, …): msgpack of the action in the key
  order it was received, the nonce, a vault flag/address and an optional ``expiresAfter`` suffix are
  hashed into a "phantom agent" that is signed as EIP-712 ``Agent`` on the ``Exchange`` domain.
* User-signed actions (transfers, withdrawals, agent approval, delegation, …): the action's own
  fields are signed as EIP-712 ``HyperliquidTransaction:<Name>`` on the
  ``HyperliquidSignTransaction`` domain with ``chainId = int(signatureChainId, 16)``.

The L1 digest is computed directly (its types are fixed, and this path is hot: every order); the
user-signed digest goes through ``eth_account``'s general EIP-712 encoder. Public-key recovery uses
``eth_keys``, which is backed by coincurve when installed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgpack
from eth_account.messages import encode_typed_data
from eth_keys import KeyAPI
from eth_utils import keccak

_keys = KeyAPI()

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


class SignatureError(ValueError):
    """The signature or the signed fields cannot even be decoded (as opposed to "wrong signer")."""


class UnrecoverableSignature(SignatureError):
    """Well-formed, but no public key matches it ("Unable to recover signer." on the wire)."""


@dataclass(frozen=True)
class UserSignedType:
    primary_type: str
    fields: tuple[tuple[str, str], ...]  # (name, EIP-712 type) in signing order
    nonce_field: str  # the action field that must equal the envelope nonce


def _fields(*pairs: str) -> tuple[tuple[str, str], ...]:
    return tuple(tuple(p.split(":")) for p in pairs)  # type: ignore[misc]


# Field lists as the SDK 0.24.0 signs them (utils/signing.py), plus cDeposit/cWithdraw from the docs.
USER_SIGNED_TYPES: dict[str, UserSignedType] = {
    "usdSend": UserSignedType(
        "HyperliquidTransaction:UsdSend",
        _fields("hyperliquidChain:string", "destination:string", "amount:string", "time:uint64"),
        "time",
    ),
    "spotSend": UserSignedType(
        "HyperliquidTransaction:SpotSend",
        _fields(
            "hyperliquidChain:string",
            "destination:string",
            "token:string",
            "amount:string",
            "time:uint64",
        ),
        "time",
    ),
    "withdraw3": UserSignedType(
        "HyperliquidTransaction:Withdraw",
        _fields("hyperliquidChain:string", "destination:string", "amount:string", "time:uint64"),
        "time",
    ),
    "usdClassTransfer": UserSignedType(
        "HyperliquidTransaction:UsdClassTransfer",
        _fields("hyperliquidChain:string", "amount:string", "toPerp:bool", "nonce:uint64"),
        "nonce",
    ),
    "sendAsset": UserSignedType(
        "HyperliquidTransaction:SendAsset",
        _fields(
            "hyperliquidChain:string",
            "destination:string",
            "sourceDex:string",
            "destinationDex:string",
            "token:string",
            "amount:string",
            "fromSubAccount:string",
            "nonce:uint64",
        ),
        "nonce",
    ),
    "approveAgent": UserSignedType(
        "HyperliquidTransaction:ApproveAgent",
        _fields(
            "hyperliquidChain:string", "agentAddress:address", "agentName:string", "nonce:uint64"
        ),
        "nonce",
    ),
    "approveBuilderFee": UserSignedType(
        "HyperliquidTransaction:ApproveBuilderFee",
        _fields("hyperliquidChain:string", "maxFeeRate:string", "builder:address", "nonce:uint64"),
        "nonce",
    ),
    "tokenDelegate": UserSignedType(
        "HyperliquidTransaction:TokenDelegate",
        _fields(
            "hyperliquidChain:string",
            "validator:address",
            "wei:uint64",
            "isUndelegate:bool",
            "nonce:uint64",
        ),
        "nonce",
    ),
    "cDeposit": UserSignedType(
        "HyperliquidTransaction:CDeposit",
        _fields("hyperliquidChain:string", "wei:uint64", "nonce:uint64"),
        "nonce",
    ),
    "cWithdraw": UserSignedType(
        "HyperliquidTransaction:CWithdraw",
        _fields("hyperliquidChain:string", "wei:uint64", "nonce:uint64"),
        "nonce",
    ),
    "convertToMultiSigUser": UserSignedType(
        "HyperliquidTransaction:ConvertToMultiSigUser",
        _fields("hyperliquidChain:string", "signers:string", "nonce:uint64"),
        "nonce",
    ),
    "userDexAbstraction": UserSignedType(
        "HyperliquidTransaction:UserDexAbstraction",
        _fields("hyperliquidChain:string", "user:address", "enabled:bool", "nonce:uint64"),
        "nonce",
    ),
    "userSetAbstraction": UserSignedType(
        "HyperliquidTransaction:UserSetAbstraction",
        _fields("hyperliquidChain:string", "user:address", "abstraction:string", "nonce:uint64"),
        "nonce",
    ),
}

# Defaults for fields a client may omit from the posted action although it signed them:
# the SDK signs approveAgent with agentName "" and then deletes the key before posting.
_SIGNED_DEFAULTS: dict[str, dict[str, Any]] = {"approveAgent": {"agentName": ""}}

_EIP712_DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


def is_user_signed(action_type: str) -> bool:
    return action_type in USER_SIGNED_TYPES


def network_name(is_mainnet: bool) -> str:
    """The ``hyperliquidChain`` value a user-signed action must carry on this network."""
    return "Mainnet" if is_mainnet else "Testnet"


# ---------------------------------------------------------------------------------------------
# Signature parsing and recovery


def parse_signature(signature: Any) -> tuple[int, int, int]:
    """``{"r": "0x…", "s": "0x…", "v": 27|28}`` → (v, r, s). r/s may have fewer than 64 digits."""
    if not isinstance(signature, Mapping):
        raise SignatureError("signature must be an object with r, s and v")
    try:
        r_raw, s_raw, v = signature["r"], signature["s"], signature["v"]
    except KeyError as exc:
        raise SignatureError(f"signature is missing {exc.args[0]}") from None
    if not isinstance(r_raw, str) or not isinstance(s_raw, str):
        raise SignatureError("signature r and s must be hex strings")
    if isinstance(v, bool) or not isinstance(v, int) or v not in (27, 28):
        raise SignatureError("signature v must be 27 or 28")
    try:
        r, s = int(r_raw, 16), int(s_raw, 16)
    except ValueError:
        raise SignatureError("signature r and s must be hex strings") from None
    if not (0 < r < 2**256 and 0 < s < 2**256):
        raise SignatureError("signature r and s out of range")
    return v, r, s


def recover_from_digest(digest: bytes, signature: Any) -> str:
    """Recover the lower-case signer address of a 32-byte digest.

    Raises ``UnrecoverableSignature`` when no public key corresponds to the signature.
    """
    v, r, s = parse_signature(signature)
    try:
        sig = _keys.Signature(vrs=(v - 27, r, s))
        public_key = sig.recover_public_key_from_msg_hash(digest)
    except Exception as exc:  # eth_keys raises several types for invalid points
        raise UnrecoverableSignature("unable to recover signer") from exc
    return public_key.to_address().lower()


# ---------------------------------------------------------------------------------------------
# L1 actions


def _address_bytes(address: str) -> bytes:
    hex_part = address[2:] if address.startswith(("0x", "0X")) else address
    try:
        raw = bytes.fromhex(hex_part)
    except ValueError:
        raise SignatureError(f"invalid address {address!r}") from None
    if len(raw) != 20:
        raise SignatureError(f"invalid address {address!r}")
    return raw


def action_hash(
    action: Any, vault_address: str | None, nonce: int, expires_after: int | None
) -> bytes:
    """keccak(msgpack(action) ‖ nonce(8 BE) ‖ vault flag[+address] ‖ [0x00 ‖ expiresAfter(8 BE)]).

    ``action`` must keep the key order it was received in (Python dicts from ``json.loads`` do).
    """
    try:
        data = msgpack.packb(action)
        data += nonce.to_bytes(8, "big")
    except (TypeError, ValueError, OverflowError) as exc:
        raise SignatureError(f"cannot encode action: {exc}") from None
    if vault_address is None:
        data += b"\x00"
    else:
        data += b"\x01" + _address_bytes(vault_address)
    if expires_after is not None:
        try:
            data += b"\x00" + expires_after.to_bytes(8, "big")
        except OverflowError:
            raise SignatureError("expiresAfter out of range") from None
    return keccak(data)


_EXCHANGE_DOMAIN_SEPARATOR = keccak(
    keccak(b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
    + keccak(b"Exchange")
    + keccak(b"1")
    + (1337).to_bytes(32, "big")
    + bytes(32)
)
_AGENT_TYPE_HASH = keccak(b"Agent(string source,bytes32 connectionId)")


def l1_digest(connection_id: bytes, is_mainnet: bool) -> bytes:
    """EIP-712 digest of the phantom agent ``{source, connectionId}`` on the Exchange domain."""
    source = b"a" if is_mainnet else b"b"
    struct_hash = keccak(_AGENT_TYPE_HASH + keccak(source) + connection_id)
    return keccak(b"\x19\x01" + _EXCHANGE_DOMAIN_SEPARATOR + struct_hash)


def recover_l1_signer(
    action: Any,
    signature: Any,
    *,
    nonce: int,
    vault_address: str | None,
    expires_after: int | None,
    is_mainnet: bool,
) -> str:
    """Lower-case address that signed an L1 action envelope."""
    connection_id = action_hash(action, vault_address, nonce, expires_after)
    return recover_from_digest(l1_digest(connection_id, is_mainnet), signature)


# ---------------------------------------------------------------------------------------------
# User-signed actions


def user_signed_typed_data(action: Mapping[str, Any], *, is_mainnet: bool) -> dict[str, Any]:
    """The EIP-712 message a user-signed action was signed as, rebuilt from the posted fields.

    ``hyperliquidChain`` is taken from the server's network, not from the action: an action signed
    for another network then recovers a different address (the caller checks the posted value
    separately to give a clear error).
    """
    spec = USER_SIGNED_TYPES.get(action.get("type"))  # type: ignore[arg-type]
    if spec is None:
        raise SignatureError(f"not a user-signed action type: {action.get('type')!r}")
    chain_id_raw = action.get("signatureChainId")
    if not isinstance(chain_id_raw, str):
        raise SignatureError("missing signatureChainId")
    try:
        chain_id = int(chain_id_raw, 16)
    except ValueError:
        raise SignatureError(f"invalid signatureChainId {chain_id_raw!r}") from None
    defaults = _SIGNED_DEFAULTS.get(action["type"], {})
    message: dict[str, Any] = {"hyperliquidChain": network_name(is_mainnet)}
    for name, typ in spec.fields:
        if name == "hyperliquidChain":
            continue
        if name in action:
            value = action[name]
        elif name in defaults:
            value = defaults[name]
        else:
            raise SignatureError(f"missing field {name}")
        _check_field_type(name, typ, value)
        message[name] = value
    return {
        "domain": {
            "name": "HyperliquidSignTransaction",
            "version": "1",
            "chainId": chain_id,
            "verifyingContract": ZERO_ADDRESS,
        },
        "types": {
            spec.primary_type: [{"name": n, "type": t} for n, t in spec.fields],
            "EIP712Domain": _EIP712_DOMAIN_TYPE,
        },
        "primaryType": spec.primary_type,
        "message": message,
    }


def _check_field_type(name: str, typ: str, value: Any) -> None:
    # eth_account would coerce or raise obscure errors; reject malformed values up front.
    if typ == "string":
        ok = isinstance(value, str)
    elif typ == "bool":
        ok = isinstance(value, bool)
    elif typ == "uint64":
        ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**64
    elif typ == "address":
        ok = isinstance(value, str) and len(value) == 42 and value[:2] in ("0x", "0X")
        if ok:
            try:
                bytes.fromhex(value[2:])
            except ValueError:
                ok = False
    else:  # pragma: no cover - no other types are declared above
        ok = True
    if not ok:
        raise SignatureError(f"field {name} must be of type {typ}")


def user_signed_digest(action: Mapping[str, Any], *, is_mainnet: bool) -> bytes:
    signable = encode_typed_data(full_message=user_signed_typed_data(action, is_mainnet=is_mainnet))
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def recover_user_signed_signer(
    action: Mapping[str, Any], signature: Any, *, is_mainnet: bool
) -> str:
    """Lower-case address that signed a user-signed action."""
    return recover_from_digest(user_signed_digest(action, is_mainnet=is_mainnet), signature)


def user_signed_nonce(action: Mapping[str, Any]) -> Any:
    """The action's own nonce field (``time`` or ``nonce``); must equal the envelope nonce."""
    return action.get(USER_SIGNED_TYPES[action["type"]].nonce_field)
