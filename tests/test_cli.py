"""The operator commands: rotating the wallet master key keeps every wallet usable."""

from __future__ import annotations

import json

from hyperdesk.cli import main
from tests.fixtures.app import register_and_login


def test_rotating_the_master_key_rewraps_every_wallet_and_keeps_it_usable(
    client, services, monkeypatch, capsys
):
    alice = register_and_login(client, "alice")
    created = client.post("/api/wallets", json={"label": "main"}, headers=alice.headers).json()
    key_before, _ = services.wallets.key_for(created["id"])
    path = services.settings.resolved_master_key_file
    old_id = json.loads(path.read_text())["current"]

    monkeypatch.setenv("HYPERDESK_DATA_DIR", str(services.settings.data_dir))
    monkeypatch.setenv("HYPERDESK_DATABASE_URL", services.settings.resolved_database_url)
    assert main(["rotate-master-key"]) == 0
    assert "re-wrapped 1 wallet keys" in capsys.readouterr().out

    keyring = json.loads(path.read_text())
    assert keyring["current"] != old_id
    assert set(keyring["keys"]) == {old_id, keyring["current"]}
    assert path.stat().st_mode & 0o777 == 0o600

    from hyperdesk.keystore import load_keyring
    from hyperdesk.persistence.models import Wallet
    from hyperdesk.wallets.service import WalletService

    with services.sessions() as session:
        assert session.get(Wallet, created["id"]).key_id == keyring["current"]
    rotated = WalletService(services.sessions, load_keyring(path))
    assert rotated.key_for(created["id"])[0] == key_before
