"""Who the client is behind proxies: X-Forwarded-For believed only from trusted proxies."""

from __future__ import annotations

import pytest

from hyperdesk.http.forwarded import parse_address, parse_networks, resolve_client_ip
from hyperdesk.settings import Settings

PROXY = parse_networks(("10.9.0.0/24",))


@pytest.mark.parametrize(
    ("peer", "headers", "client"),
    [
        # no trusted proxy: the peer, whatever the header says
        ("192.0.2.50", ["203.0.113.5"], "192.0.2.50"),
        # the trusted proxy names the client
        ("10.9.0.2", ["203.0.113.5"], "203.0.113.5"),
        # what the client wrote itself (left of the proxy's entry) is ignored
        ("10.9.0.2", ["1.2.3.4, 203.0.113.5"], "203.0.113.5"),
        ("10.9.0.2", ["1.2.3.4", "203.0.113.5"], "203.0.113.5"),  # repeated header lines
        # a chain of trusted proxies is walked to the first untrusted hop
        ("10.9.0.2", ["1.2.3.4, 203.0.113.5, 10.9.0.7"], "203.0.113.5"),
        # a trusted proxy that sent no header: the proxy is the client
        ("10.9.0.2", [], "10.9.0.2"),
        # garbage from a trusted hop ends the walk at the last address known
        ("10.9.0.2", ["203.0.113.5, not-an-ip"], "10.9.0.2"),
        ("10.9.0.2", ["not-an-ip, 203.0.113.5"], "203.0.113.5"),
        # ports and brackets as some proxies write them
        ("10.9.0.2", ["203.0.113.5:4711"], "203.0.113.5"),
        ("10.9.0.2", ["[2001:db8::1]:443"], "2001:db8::1"),
        # one client, one spelling
        ("10.9.0.2", ["::ffff:203.0.113.5"], "203.0.113.5"),
        ("::ffff:192.0.2.50", [], "192.0.2.50"),
        # no peer, or one that is not an address
        (None, ["203.0.113.5"], "unknown"),
        ("testclient", ["203.0.113.5"], "testclient"),
    ],
)
def test_the_client_is_the_first_address_not_written_by_a_trusted_proxy(peer, headers, client):
    assert resolve_client_ip(peer, headers, PROXY) == client


def test_without_trusted_proxies_the_header_is_never_read():
    assert resolve_client_ip("127.0.0.1", ["203.0.113.5"], ()) == "127.0.0.1"


@pytest.mark.parametrize("text", ["", "  ", "example.com", "1.2.3", "[::1", "1.2.3.4:5:6"])
def test_anything_but_an_address_is_not_an_address(text):
    assert parse_address(text) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("172.30.0.1", ("172.30.0.1/32",)),
        ("172.30.0.1, 10.0.0.0/8", ("172.30.0.1/32", "10.0.0.0/8")),
        ('["::1", "10.0.0.5/8"]', ("::1/128", "10.0.0.0/8")),
        ("", ()),
    ],
)
def test_operators_list_trusted_proxies_comma_separated_or_as_json(monkeypatch, value, expected):
    monkeypatch.setenv("HYPERDESK_TRUSTED_PROXIES", value)
    assert Settings().trusted_proxies == expected


def test_a_trusted_proxy_that_is_not_an_address_stops_the_server(monkeypatch):
    monkeypatch.setenv("HYPERDESK_TRUSTED_PROXIES", "proxy.internal")
    with pytest.raises(ValueError, match="trusted_proxies"):
        Settings()
