from __future__ import annotations

import base64
import json
import time

import pytest
from jose import jwt

from hyperdesk.accounts.tokens import TokenService
from hyperdesk.errors import Unauthorized

SECRET = b"a" * 64


def _service() -> TokenService:
    return TokenService(SECRET, lifetime_seconds=60)


def test_a_token_we_issued_decodes_to_its_user_and_version():
    claims = _service().decode(_service().issue(7, 3))
    assert (claims.user_id, claims.token_version) == (7, 3)


def test_a_token_signed_with_another_key_is_rejected():
    token = TokenService(b"b" * 64, lifetime_seconds=60).issue(7, 0)
    with pytest.raises(Unauthorized):
        _service().decode(token)


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_an_unsigned_alg_none_token_is_rejected():
    now = int(time.time())
    token = (
        _b64({"alg": "none", "typ": "JWT"})
        + "."
        + _b64({"sub": "7", "ver": 0, "iat": now, "exp": now + 60})
        + "."
    )
    with pytest.raises(Unauthorized):
        _service().decode(token)


def test_a_token_without_exp_is_rejected():
    token = jwt.encode({"sub": "7", "ver": 0, "iat": int(time.time())}, SECRET.decode(), "HS256")
    with pytest.raises(Unauthorized):
        _service().decode(token)


def test_a_token_without_sub_is_rejected():
    now = int(time.time())
    token = jwt.encode({"ver": 0, "iat": now, "exp": now + 60}, SECRET.decode(), "HS256")
    with pytest.raises(Unauthorized):
        _service().decode(token)


def test_an_expired_token_is_rejected():
    token = _service().issue(7, 0, now=time.time() - 3600)
    with pytest.raises(Unauthorized):
        _service().decode(token)


def test_a_token_signed_with_another_hmac_algorithm_is_rejected():
    now = int(time.time())
    token = jwt.encode(
        {"sub": "7", "ver": 0, "iat": now, "exp": now + 60}, SECRET.decode(), algorithm="HS512"
    )
    with pytest.raises(Unauthorized):
        _service().decode(token)


def test_garbage_is_rejected():
    with pytest.raises(Unauthorized):
        _service().decode("not.a.token")
