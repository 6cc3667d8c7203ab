"""Client order ids that carry who placed the order.

Hyperliquid's cloid is 16 bytes. Ours are `0x` + 32 hex digits laid out as:

    68 64 | kind (00 manual, 01 bot) | bot id (4 bytes, big-endian) | 9 random bytes

so a fill can be attributed to its bot from the fill alone — even when several bots and manual
trades share one wallet, and even if the order row were lost.
"""

from __future__ import annotations

import secrets

from hyperdesk.protocol.rules import is_cloid

_MAGIC = "6864"
_MANUAL = "00"
_BOT = "01"


def new_cloid(bot_id: int | None = None) -> str:
    if bot_id is None:
        return f"0x{_MAGIC}{_MANUAL}{0:08x}{secrets.token_hex(9)}"
    if not 0 < bot_id < 2**32:
        raise ValueError(f"bot id out of range: {bot_id}")
    return f"0x{_MAGIC}{_BOT}{bot_id:08x}{secrets.token_hex(9)}"


def is_ours(cloid: str | None) -> bool:
    return is_cloid(cloid) and cloid[2:6].lower() == _MAGIC  # type: ignore[index]


def bot_id_of(cloid: str | None) -> int | None:
    """The bot that placed the order, or None for manual or foreign orders."""
    if not is_ours(cloid):
        return None
    assert cloid is not None
    text = cloid.lower()
    if text[6:8] != _BOT:
        return None
    return int(text[8:16], 16)
