"""Accounts: signing in (password, proxy header), the token secret, refusing an open server,
and every chat handled as its signed-in user."""

from __future__ import annotations

import asyncio
import json
import stat
import urllib.error
import urllib.request
from pathlib import Path

import chainlit as cl
import pytest
from starlette.datastructures import Headers

from bot.accounts import (
    AUTH_SECRET_VAR,
    SECRET_FILE,
    auth_secret,
    hash_password,
    sign_in,
    user_name,
)
from bot.config import get_settings
from bot.errors import BotError, ConfigError
from bot.store import LOCAL_USER, AttemptStore
from bot.web import auth
from bot.web.launch import running_app

PASSWORD = "correct horse battery"


@pytest.fixture
def store(tmp_path: Path) -> AttemptStore:
    return AttemptStore.open(f"sqlite:///{tmp_path / 'store.sqlite3'}")


def _header_login(store: AttemptStore, headers: dict[str, str]) -> str | None:
    login = auth._header_login(lambda: store, "X-Forwarded-User")
    user = asyncio.run(login(Headers(headers)))
    return None if user is None else user.identifier


def test_header_login_admits_the_named_user_and_creates_them_once(store: AttemptStore) -> None:
    assert _header_login(store, {"x-forwarded-user": " Alice@Example.com "}) == "alice@example.com"
    assert _header_login(store, {"X-Forwarded-User": "alice@example.com"}) == "alice@example.com"
    assert [u.id for u in store.users()] == [LOCAL_USER, "alice@example.com"]
    assert not store.user("alice@example.com").has_password


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Forwarded-User": ""}, {"X-Forwarded-User": "local"}, {"X-Forwarded-User": "a b"}],
)
def test_header_login_refuses_no_name_a_bad_one_and_the_local_user(
    store: AttemptStore, headers: dict[str, str]
) -> None:
    assert _header_login(store, headers) is None
    assert [u.id for u in store.users()] == [LOCAL_USER]


def test_header_login_refuses_a_disabled_user(store: AttemptStore) -> None:
    store.add_user("bob")
    store.set_disabled("bob", True)
    assert _header_login(store, {"X-Forwarded-User": "bob"}) is None
    store.set_disabled("bob", False)
    assert _header_login(store, {"X-Forwarded-User": "bob"}) == "bob"


def test_password_login_checks_the_hash_and_refuses_disabled_users(store: AttemptStore) -> None:
    store.add_user("carol", password_hash=hash_password(PASSWORD))
    assert sign_in(store, "Carol", PASSWORD) == "carol"
    assert sign_in(store, "carol", PASSWORD + "!") is None
    assert sign_in(store, "nobody", PASSWORD) is None
    assert sign_in(store, "local", PASSWORD) is None
    store.set_disabled("carol", True)
    assert sign_in(store, "carol", PASSWORD) is None
    hashed = hash_password(PASSWORD)
    assert PASSWORD not in hashed and hashed.startswith("$2b$")


@pytest.mark.parametrize("name", ["", "local", " LOCAL ", "a b", "-lead", "x" * 129, "a:b"])
def test_names_that_cannot_be_users(name: str) -> None:
    with pytest.raises(BotError):
        user_name(name)


def test_the_token_secret_is_made_once_owner_only_unless_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(AUTH_SECRET_VAR, raising=False)
    first = auth_secret(tmp_path / "data")
    path = tmp_path / "data" / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32 and auth_secret(tmp_path / "data") == first
    monkeypatch.setenv(AUTH_SECRET_VAR, "given-secret-of-the-admin-0123456789")
    assert auth_secret(tmp_path / "data") == "given-secret-of-the-admin-0123456789"


@pytest.mark.parametrize(
    ("host", "env", "refused"),
    [
        ("127.0.0.1", {}, False),
        ("localhost", {}, False),
        ("0.0.0.0", {}, True),
        ("192.168.1.5", {}, True),
        ("0.0.0.0", {"INTERVIEW_BOT_PASSWORD_LOGIN": "true"}, False),
        ("0.0.0.0", {"INTERVIEW_BOT_AUTH_HEADER": "X-Forwarded-User"}, False),
    ],
)
def test_an_open_server_needs_a_login(
    host: str, env: dict[str, str], refused: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    if not refused:
        auth.refuse_open_without_login(host, get_settings())
        return
    with pytest.raises(ConfigError, match="INTERVIEW_BOT_PASSWORD_LOGIN=true"):
        auth.refuse_open_without_login(host, get_settings())


def test_serve_refuses_an_open_host_without_login_from_the_cli(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.cli import main

    assert main(["serve", "--host", "0.0.0.0"]) == 1
    said = capsys.readouterr().err
    assert "refusing to serve on 0.0.0.0 without a login" in said
    assert "INTERVIEW_BOT_AUTH_HEADER" in said


def _post(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url, data=b"", headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def test_the_served_app_signs_in_through_the_proxy_header(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTERVIEW_BOT_AUTH_HEADER", "X-Forwarded-User")
    monkeypatch.delenv(AUTH_SECRET_VAR, raising=False)
    with running_app(tmp_path / "app") as app:
        with urllib.request.urlopen(app.url + "/auth/config", timeout=20) as response:
            config = json.load(response)
        assert config["requireLogin"] and config["headerAuth"] and not config["passwordAuth"]
        status, headers, body = _post(app.url + "/auth/header", {"X-Forwarded-User": "dana"})
        assert status == 200 and "access_token" in headers.get("set-cookie", "") + body
        assert _post(app.url + "/auth/header", {})[0] == 401
        assert (app.data_dir / SECRET_FILE).exists()
    with AttemptStore.open(f"sqlite:///{app.data_dir / 'history.sqlite3'}") as store:
        assert store.user("dana").disabled is False


def test_a_signed_in_chat_is_its_users() -> None:
    from chainlit.context import init_http_context

    from bot.web.identity import current_user_id

    async def main() -> tuple[str, str]:
        init_http_context(user=cl.User(identifier="erin"))
        signed = current_user_id()
        init_http_context()
        return signed, current_user_id()

    assert asyncio.run(main()) == ("erin", LOCAL_USER)
