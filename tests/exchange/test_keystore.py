"""Envelope encryption of wallet keys (security.md §4)."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import replace

import pytest

from hyperdesk import keystore
from hyperdesk.keystore import (
    DecryptionError,
    EncryptedKey,
    KeyringMissingError,
    UnknownMasterKeyError,
    address_of,
    ensure_keyring,
    generate_private_key,
    load_keyring,
    rewrap,
    rotate_keyring,
)

KEY, ADDRESS = generate_private_key()
BINDING = {"user_id": 7, "wallet_id": 3, "address": ADDRESS}


@pytest.fixture
def keyring_path(tmp_path):
    return tmp_path / "secrets" / "master.json"


def test_first_run_creates_a_private_keyring_file(keyring_path):
    keyring = ensure_keyring(keyring_path, create=True)
    assert stat.S_IMODE(os.stat(keyring_path).st_mode) == 0o600
    raw = json.loads(keyring_path.read_text())
    assert raw["current"] == keyring.current_id
    assert ensure_keyring(keyring_path, create=False).current_id == keyring.current_id


def test_missing_keyring_without_create_says_what_to_do(keyring_path):
    with pytest.raises(KeyringMissingError) as info:
        ensure_keyring(keyring_path, create=False)
    message = str(info.value)
    assert str(keyring_path) in message
    assert "hyperdesk rotate-master-key" in message
    assert not keyring_path.exists()


def test_wallet_key_round_trips_through_one_column(keyring_path):
    keyring = ensure_keyring(keyring_path, create=True)
    encrypted = keyring.encrypt(KEY.encode(), **BINDING)
    column = encrypted.serialize()
    assert KEY not in column
    assert KEY[2:] not in column
    restored = EncryptedKey.deserialize(column)
    assert restored.key_id == keyring.current_id
    assert keyring.decrypt(column, **BINDING).decode() == KEY
    assert address_of(keyring.decrypt(restored, **BINDING).decode()) == ADDRESS


def test_each_wallet_gets_its_own_data_key_and_nonce(keyring_path):
    keyring = ensure_keyring(keyring_path, create=True)
    first = keyring.encrypt(KEY.encode(), **BINDING)
    second = keyring.encrypt(KEY.encode(), **BINDING)
    assert first.ciphertext != second.ciphertext
    assert first.nonce != second.nonce
    assert first.wrapped_data_key != second.wrapped_data_key


@pytest.mark.parametrize(
    "other",
    [
        {"user_id": 8},
        {"wallet_id": 4},
        {"address": "0x" + "ab" * 20},
    ],
)
def test_row_copied_to_another_user_or_wallet_fails_to_decrypt(keyring_path, other):
    keyring = ensure_keyring(keyring_path, create=True)
    column = keyring.encrypt(KEY.encode(), **BINDING).serialize()
    with pytest.raises(DecryptionError):
        keyring.decrypt(column, **{**BINDING, **other})


def test_address_binding_ignores_case(keyring_path):
    keyring = ensure_keyring(keyring_path, create=True)
    column = keyring.encrypt(KEY.encode(), **BINDING).serialize()
    upper = {**BINDING, "address": ADDRESS.upper().replace("0X", "0x")}
    assert keyring.decrypt(column, **upper).decode() == KEY


def test_tampered_ciphertext_fails_to_decrypt(keyring_path):
    keyring = ensure_keyring(keyring_path, create=True)
    encrypted = keyring.encrypt(KEY.encode(), **BINDING)
    flipped = bytes([encrypted.ciphertext[0] ^ 1]) + encrypted.ciphertext[1:]
    with pytest.raises(DecryptionError):
        keyring.decrypt(replace(encrypted, ciphertext=flipped), **BINDING)


def test_rotation_rewraps_without_touching_the_ciphertext(keyring_path):
    keyring = ensure_keyring(keyring_path, create=True)
    old = keyring.encrypt(KEY.encode(), **BINDING)

    new_id = rotate_keyring(keyring_path)
    rotated = load_keyring(keyring_path)
    assert rotated.current_id == new_id != keyring.current_id
    assert stat.S_IMODE(os.stat(keyring_path).st_mode) == 0o600
    assert rotated.needs_rewrap(old)
    assert rotated.decrypt(old, **BINDING).decode() == KEY  # old rows still readable

    rewrapped = rewrap(old, rotated)
    assert rewrapped.key_id == new_id
    assert rewrapped.ciphertext == old.ciphertext
    assert rewrapped.nonce == old.nonce
    assert rewrapped.wrapped_data_key != old.wrapped_data_key
    assert not rotated.needs_rewrap(rewrapped)
    assert rotated.decrypt(rewrapped.serialize(), **BINDING).decode() == KEY


def test_rotating_a_missing_keyring_creates_it(keyring_path):
    key_id = rotate_keyring(keyring_path)
    assert load_keyring(keyring_path).current_id == key_id


def test_unknown_master_key_is_a_clear_error(keyring_path, tmp_path):
    encrypted = ensure_keyring(keyring_path, create=True).encrypt(KEY.encode(), **BINDING)
    other = ensure_keyring(tmp_path / "other.json", create=True)
    with pytest.raises(UnknownMasterKeyError):
        other.decrypt(encrypted, **BINDING)


def test_no_secret_in_reprs(keyring_path):
    keyring = ensure_keyring(keyring_path, create=True)
    encrypted = keyring.encrypt(KEY.encode(), **BINDING)
    master = json.loads(keyring_path.read_text())["keys"][keyring.current_id]
    for text in (repr(keyring), str(keyring), repr(encrypted)):
        assert master not in text
        assert "ciphertext=" not in text
    assert "***" in repr(keyring)


def test_address_of_rejects_garbage_without_echoing_it():
    with pytest.raises(ValueError, match="private key") as info:
        address_of("0xnot-a-key-but-secret")
    assert "secret" not in str(info.value)


def test_generated_keys_are_distinct_and_match_their_address():
    key, address = generate_private_key()
    assert key.startswith("0x")
    assert len(key) == 66
    assert address_of(key) == address == address.lower()
    assert generate_private_key()[0] != key


def test_keyring_write_is_atomic(keyring_path, monkeypatch):
    ensure_keyring(keyring_path, create=True)
    before = keyring_path.read_text()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(keystore.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        rotate_keyring(keyring_path)
    assert keyring_path.read_text() == before
    assert [p.name for p in keyring_path.parent.iterdir()] == [keyring_path.name]
