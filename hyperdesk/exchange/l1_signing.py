"""Signing of L1 actions (orders, cancels, modifies, leverage) without the generic EIP-712 path.

The SDK's ``sign_l1_action`` builds a typed-data dictionary, has ``eth_account`` re-encode and
re-hash the constant domain and type on every call, then signs: about 1.5 ms of CPU per order,
spent on the one thread pool that serves every user. The message is always the same shape — a
phantom ``Agent(string source, bytes32 connectionId)`` under the constant ``Exchange`` domain — so
the domain separator and type hash are computed once here and each signature costs two keccaks and
one secp256k1 signature (libsecp256k1 through ``coincurve``, RFC 6979 deterministic nonces and
low-s, exactly like the SDK's own signing backend). The action hash is still the SDK's
``action_hash``: what is signed is byte for byte what the SDK would sign, and a test checks the
signatures are identical.
"""

from __future__ import annotations

from typing import Any

from coincurve import PrivateKey
from eth_utils import keccak
from hyperliquid.utils.signing import action_hash

_DOMAIN_TYPE = b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
_AGENT_TYPE = b"Agent(string source,bytes32 connectionId)"
_DOMAIN_SEPARATOR = keccak(
    keccak(_DOMAIN_TYPE)
    + keccak(b"Exchange")
    + keccak(b"1")
    + (1337).to_bytes(32, "big")
    + bytes(32)  # verifyingContract: the zero address, left-padded to a word
)
_AGENT_TYPE_HASH = keccak(_AGENT_TYPE)
_SOURCE_HASH = {True: keccak(b"a"), False: keccak(b"b")}  # mainnet "a", anything else "b"


class L1Signer:
    """One key's signer for L1 actions; holds the key as a ``coincurve`` key (never printed)."""

    __slots__ = ("_key",)

    def __init__(self, private_key: bytes) -> None:
        self._key = PrivateKey(private_key)

    def __repr__(self) -> str:
        return "L1Signer(key=***)"

    def __reduce__(self) -> Any:
        raise TypeError("L1Signer cannot be pickled")

    def sign(
        self,
        action: dict[str, Any],
        nonce: int,
        *,
        is_mainnet: bool,
        vault_address: str | None = None,
        expires_after: int | None = None,
    ) -> dict[str, Any]:
        """The ``{"r", "s", "v"}`` signature the SDK's ``sign_l1_action`` would produce."""
        connection_id = action_hash(action, vault_address, nonce, expires_after)
        struct_hash = keccak(_AGENT_TYPE_HASH + _SOURCE_HASH[is_mainnet] + connection_id)
        digest = keccak(b"\x19\x01" + _DOMAIN_SEPARATOR + struct_hash)
        signature = self._key.sign_recoverable(digest, hasher=None)
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:64], "big")
        return {"r": hex(r), "s": hex(s), "v": signature[64] + 27}
