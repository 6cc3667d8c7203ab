"""The `hyperdesk` command: serve the app, upgrade the database, rotate the wallet master key."""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from hyperdesk.errors import ConfigurationError
from hyperdesk.settings import Settings


def serve(settings: Settings) -> int:
    import uvicorn

    from hyperdesk.http.app import create_app
    from hyperdesk.http.routes.live import MAX_CLIENT_MESSAGE
    from hyperdesk.logging_filters import install as install_log_filters
    from hyperdesk.runtime import Runtime

    install_log_filters()
    runtime = Runtime(settings)
    try:
        services = runtime.start()
    except ConfigurationError as exc:
        runtime.stop()
        print(f"hyperdesk: cannot start: {exc}", file=sys.stderr)
        return 2
    # uvicorn captures SIGINT/SIGTERM while serving and re-raises them once it has shut down;
    # turning SIGTERM into SystemExit then lets the `finally` below stop everything else cleanly.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        app = create_app(services)
        # uvicorn would buffer websocket messages of up to 16 MiB before the app could refuse
        # them; the app accepts 4 KiB, so that is the frame limit too (larger: close 1009).
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            log_level="info",
            access_log=settings.access_log,
            workers=None,
            ws_max_size=MAX_CLIENT_MESSAGE,
            # The app alone decides whom to believe about the client's address
            # (HYPERDESK_TRUSTED_PROXIES); uvicorn would otherwise trust loopback's headers too.
            proxy_headers=False,
        )
    finally:
        runtime.stop()
    return 0


def _exit_on_sigterm(_signum: int, _frame: object) -> None:
    # Once: a second SIGTERM must not interrupt the stop the first one started (it would leave
    # the paper exchange and the actors half stopped). SIGKILL still ends a stop that hangs.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise SystemExit(0)


def migrate(settings: Settings) -> int:
    from hyperdesk.persistence.database import make_engine
    from hyperdesk.persistence.migrate import upgrade_to_head

    engine = make_engine(settings.resolved_database_url)
    upgrade_to_head(engine)
    engine.dispose()
    print("database is at the latest schema")
    return 0


def rotate_master_key(settings: Settings) -> int:
    """Add a new master key, make it current, and re-wrap every wallet's data key under it.

    Wallet ciphertext is untouched; only the small wrapped data keys change, one transaction for
    all of them. Old master keys stay in the keyring file until an operator removes them.
    """
    from sqlalchemy import select

    from hyperdesk.keystore import EncryptedKey, load_keyring, rewrap, rotate_keyring
    from hyperdesk.persistence.database import make_engine, make_session_factory, transaction
    from hyperdesk.persistence.migrate import upgrade_to_head
    from hyperdesk.persistence.models import Wallet

    path = settings.resolved_master_key_file
    key_id = rotate_keyring(path)
    keyring = load_keyring(path)
    engine = make_engine(settings.resolved_database_url)
    upgrade_to_head(engine)
    rewrapped = 0
    with transaction(make_session_factory(engine)) as session:
        for wallet in session.scalars(select(Wallet).where(Wallet.key_id != key_id)):
            fresh = rewrap(EncryptedKey.deserialize(wallet.encrypted_key), keyring)
            wallet.encrypted_key, wallet.key_id = fresh.serialize(), fresh.key_id
            rewrapped += 1
    engine.dispose()
    print(f"master key {key_id} is now current in {path}; re-wrapped {rewrapped} wallet keys")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hyperdesk", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="run the server (the default)")
    commands.add_parser("migrate", help="upgrade the database schema to the latest version")
    commands.add_parser(
        "rotate-master-key",
        help="create the wallet master keyring, or add a new key and re-wrap every wallet key",
    )
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = Settings()
    if args.command == "migrate":
        return migrate(settings)
    if args.command == "rotate-master-key":
        return rotate_master_key(settings)
    return serve(settings)


if __name__ == "__main__":
    sys.exit(main())
