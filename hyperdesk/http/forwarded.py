"""Who the client really is behind reverse proxies: `X-Forwarded-For`, believed only from proxies
the operator named.

Anyone can send an `X-Forwarded-For` header, so its entries are only as trustworthy as the hop
that appended them. Reading right to left, each entry was written by the hop to its right: the
socket peer writes the rightmost one. While that writer is a trusted proxy the entry is what the
proxy saw; the first address that is not a trusted proxy is the client. Anything further left was
supplied by that client and is ignored.

Pure functions of strings and networks, so the rules are testable without a server.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from functools import lru_cache

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

UNKNOWN = "unknown"


def parse_network(text: str) -> IPNetwork:
    """One trusted proxy: an address (`172.30.0.1`, `::1`) or a network (`10.0.0.0/8`)."""
    return ipaddress.ip_network(text.strip(), strict=False)


@lru_cache(maxsize=16)
def parse_networks(texts: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """The trusted-proxy setting as networks; cached because every request asks."""
    return tuple(parse_network(text) for text in texts)


def parse_address(text: str) -> IPAddress | None:
    """An address as proxies write it — `1.2.3.4`, `1.2.3.4:5678`, `::1`, `[::1]:443` — or None.

    IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) become plain IPv4, so one client has one
    spelling and one set of throttling counters.
    """
    text = text.strip().strip('"')
    if text.startswith("["):  # [v6] or [v6]:port
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: IPAddress, proxies: Iterable[IPNetwork]) -> bool:
    return any(address.version == net.version and address in net for net in proxies)


def forwarded_entries(header_values: Sequence[str]) -> list[str]:
    """All `X-Forwarded-For` entries in hop order; repeated headers are one list in order."""
    return [entry for value in header_values for entry in value.split(",") if entry.strip()]


def resolve_client_ip(
    peer: str | None, forwarded_for: Sequence[str], trusted_proxies: Sequence[IPNetwork]
) -> str:
    """The client's address: the peer itself unless the peer is a trusted proxy; then the
    rightmost `X-Forwarded-For` entry that is not itself a trusted proxy.

    `forwarded_for` holds the raw header values (one per header line). An entry that is not an
    address ends the walk at the last trusted hop: a proxy that writes garbage tells us nothing.
    """
    if peer is None:
        return UNKNOWN
    current = parse_address(peer)
    if current is None:  # not an IP at all (a test client's name, a unix socket)
        return peer
    if not trusted_proxies:
        return str(current)
    for entry in reversed(forwarded_entries(forwarded_for)):
        if not _trusted(current, trusted_proxies):
            break
        written = parse_address(entry)
        if written is None:
            break
        current = written
    return str(current)
