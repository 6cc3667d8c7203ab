"""The order path's database work: one write before the order is sent, nothing else on the way.

Who the caller is and which wallets are theirs are kept in memory after the first read; these
tests pin down both sides of that: the round trips saved, and that a deleted wallet (whose id
SQLite hands to the next wallet created) or a changed password is seen at once.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from hyperdesk.accounts.session_cache import FactCache
from hyperdesk.persistence.database import make_engine
from tests.fixtures.app import new_funded_wallet, register_and_login


def _on_the_request_path() -> bool:
    """The event loop, its worker threads, and the signer actors (which write the order row
    just before signing); not the outbox, stream or other background threads."""
    if threading.current_thread().name.startswith(("AnyIO worker thread", "SignerActor")):
        return True
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@contextmanager
def _statements_on_this_route(runtime) -> Iterator[list[str]]:
    """SQL run on the request's path, through either of the runtime's engines."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if _on_the_request_path():
            seen.append(" ".join(statement.split()[:3]))

    def commit(_conn: Any) -> None:
        if _on_the_request_path():
            seen.append("COMMIT")

    engines: list[Engine] = list(
        {id(e): e for e in (runtime.engine, runtime.unflushed_engine)}.values()
    )
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
        event.listen(engine, "commit", commit)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)
            event.remove(engine, "commit", commit)


def _order(client, user, wallet_id: int, price: str):
    body = {"wallet_id": wallet_id, "coin": "ETH", "side": "buy", "size": "0.1", "price": price}
    return client.post("/api/orders", json=body, headers=user.headers)


def test_an_order_waits_for_one_insert_and_a_cancel_for_no_database_at_all(
    client, alice, runtime, paper_server
):
    wallet = new_funded_wallet(client, alice)
    price = str(int(paper_server.exchange.mid("ETH") * Decimal("0.8")))
    assert _order(client, alice, wallet["id"], price).status_code == 200  # first sight: reads
    with _statements_on_this_route(runtime) as seen:
        placed = _order(client, alice, wallet["id"], price)
        assert placed.status_code == 200, placed.text
    # PostgreSQL: one round trip, an autocommit insert whose commit returns before the WAL flush
    # (`order_row_flush` off): it survives the app's crash, as SQLite's WAL commit does.
    assert [s for s in seen if s != "COMMIT"] == ["INSERT INTO orders"]
    if runtime.engine.dialect.name == "sqlite":
        assert seen == ["INSERT INTO orders", "COMMIT"]
    with _statements_on_this_route(runtime) as seen:
        canceled = client.delete(
            f"/api/orders/{placed.json()['oid']}",
            params={"wallet_id": wallet["id"]},
            headers=alice.headers,
        )
        assert canceled.status_code == 204, canceled.text
    assert seen == []


def test_a_deleted_wallet_is_no_longer_its_owners_even_when_its_id_is_reused(
    client, alice, bob, paper_server
):
    price = str(int(paper_server.exchange.mid("ETH") * Decimal("0.8")))
    wallet = new_funded_wallet(client, alice)
    assert _order(client, alice, wallet["id"], price).status_code == 200  # remembered as alice's
    deleted = client.delete(f"/api/wallets/{wallet['id']}", headers=alice.headers)
    assert deleted.status_code == 204, deleted.text
    refused = _order(client, alice, wallet["id"], price)
    assert refused.status_code == 404, refused.text
    assert refused.json()["detail"]["code"] == "NOT_FOUND"
    bobs = new_funded_wallet(client, bob)  # SQLite gives the freed id to the next wallet
    for wallet_id in {wallet["id"], bobs["id"]}:
        other = _order(client, alice, wallet_id, price)
        assert other.status_code == 404, other.text
    assert _order(client, bob, bobs["id"], price).status_code == 200


def test_a_token_is_refused_at_once_after_its_password_changed_even_once_remembered(client):
    user = register_and_login(client, "carol")
    assert client.get("/api/auth/me", headers=user.headers).status_code == 200  # remembered
    changed = client.post(
        "/api/auth/password",
        json={"current_password": "correct horse battery", "new_password": "another passphrase"},
        headers=user.headers,
    )
    assert changed.status_code == 204, changed.text
    refused = client.get("/api/auth/me", headers=user.headers)
    assert refused.status_code == 401
    assert refused.json()["detail"]["code"] == "INVALID_TOKEN"


def test_a_read_that_began_before_an_invalidation_is_not_kept():
    cache: FactCache[int, str] = FactCache()
    generation = cache.generation()  # a request starts reading the old value...
    cache.invalidate(lambda key: key == 1)  # ...the value changes and is invalidated...
    cache.put(1, "old", generation)  # ...and the late read must not bring it back
    assert cache.get(1) is None
    cache.put(1, "new", cache.generation())
    assert cache.get(1) == "new"


def test_an_idle_postgresql_connection_that_died_is_replaced_before_use(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite connections are files: nothing to lose, nothing pinged")
    engine = make_engine(database_url, idle_ping_seconds=0.0)
    try:
        with engine.connect() as connection:
            pid = connection.execute(text("SELECT pg_backend_pid()")).scalar()
        admin = make_engine(database_url)
        with admin.connect() as connection:  # the server drops the pooled, idle connection
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.dispose()
        with engine.connect() as connection:  # pinged, found dead, replaced: no error here
            assert connection.execute(text("SELECT pg_backend_pid()")).scalar() != pid
    finally:
        engine.dispose()
