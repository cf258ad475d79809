"""Accounts: signing in (password, proxy header), the token secret, refusing an open server,
and every chat handled as its signed-in user."""

from __future__ import annotations

import asyncio
import json
import stat
import urllib.error
import urllib.request
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import chainlit as cl
import pytest
import sqlalchemy as sa
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
from tests.test_history import make_grade

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


# --- two users in the app's handlers (each chat in its own Chainlit context) -----------------


@pytest.fixture
def fresh_app() -> Iterator[Any]:
    from bot.web import app

    app.engine_context.cache_clear()
    yield app
    app.engine_context().store.close()
    app.engine_context.cache_clear()


def _as(user: str | None) -> Any:
    """A chat of `user` (None: nobody signed in) whose sends are recorded."""
    from chainlit.context import init_http_context

    from tests.test_web import Recorder

    context = init_http_context(user=cl.User(identifier=user) if user else None)
    recorder = Recorder()
    recorder.attach(context.emitter)
    recorder.context = context  # type: ignore[attr-defined]
    return recorder


def _as_chat(recorder: Any) -> None:
    """Back to the chat `recorder` records (as when its tab sends the next event)."""
    from chainlit.context import context_var

    context_var.set(recorder.context)


def test_two_signed_in_users_see_only_their_own(fresh_app: Any) -> None:
    app = fresh_app
    act = cl.Action

    store = app.engine_context().store
    store.add_user("ann")
    store.add_user("ben")  # signing in admits only users of the store
    earlier = store.start_session("single", user_id="ann")
    graded = store.save_answer(
        session_id=earlier,
        question_id="sd-url-shortener",
        kind="system_design",
        competency="C3",
        difficulty=2,
        answer="Ann's graded answer about base62 codes",
        user_id="ann",
    )
    store.record_grade(graded, make_grade(61, question_id="sd-url-shortener"), user_id="ann")

    async def scenario() -> None:
        _as("ann")
        await app.on_chat_start()
        await app.on_settings_update({"mode": "single", "question": "dd-kv-cache"})
        await app.on_start(act(name="start", payload={}))
        await app.on_message(cl.Message(content="Ann's answer: cache the keys and values."))
        ann_session = app._session()
        assert ann_session is not None and ann_session.ctx.user_id == "ann"

        ben = _as("ben")
        await app.on_chat_start()
        assert not [a for a in ben.actions if a["name"] == "resume"], "no resume of Ann's"
        await app.on_resume(act(name="resume", payload={"id": ann_session.id}))
        assert "not yours to resume" in ben.last() and app._session() is None
        await app.on_submit(act(name="submit", payload={}))  # Ben has nothing to submit
        await app.on_history(act(name="history", payload={}))
        assert "sd-url-shortener" not in "".join(ben.texts()) and "61" not in ben.last()
        await app.on_export_json(act(name="export_json", payload={}))
        assert "Exported 0 attempts in 0 sessions" in ben.last()

        again = _as("ann")  # Ann's second tab is offered her own session, and her history
        await app.on_chat_start()
        assert [a["payload"] for a in again.actions if a["name"] == "resume"] == [
            {"id": ann_session.id}
        ]
        await app.on_export_json(act(name="export_json", payload={}))
        assert "Exported 1 attempts in 2 sessions" in again.last()

    asyncio.run(scenario())
    assert [a.id for a in store.attempts("ann")] == [graded]  # the new one is a draft
    assert store.attempts("ben") == [] and store.open_session_ids("ben") == []


# --- the users commands ------------------------------------------------------------------------


def _cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str = ""
) -> tuple[int, str, str]:
    import io

    from bot.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_users_commands_from_add_to_purge(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run = partial(_cli, capsys, monkeypatch)
    assert run("users", "add", "Fay", "--password-stdin", stdin=PASSWORD + "\n")[0] == 0
    assert run("users", "add", "fay", "--password-stdin", stdin=PASSWORD + "\n")[2].startswith(
        "error: user 'fay' exists already"
    )
    assert "at least 8" in run("users", "add", "gus", "--password-stdin", stdin="short\n")[2]
    with AttemptStore.open(get_settings().effective_database_url) as store:
        assert sign_in(store, "fay", PASSWORD) == "fay"
        sid = store.start_session("single", user_id="fay")
        aid = store.save_answer(
            session_id=sid,
            question_id="dd-kv-cache",
            kind="llm_deep_dive",
            competency="C6",
            difficulty=3,
            answer="fay's answer",
            user_id="fay",
        )
        store.save_follow_up(aid, "why?", "because", user_id="fay")
        store.save_review_card("dd-kv-cache", "{}", store.clock(), user_id="fay")
        store.save_user_settings("fay", {"mode": "drill"})
    code, out, _ = run("history", "--user", "fay", "--json")
    assert code == 0 and [a["answer"] for a in json.loads(out)["attempts"]] == ["fay's answer"]
    assert json.loads(run("history", "--json")[1])["attempts"] == []  # the local user's
    assert "unknown user 'nobody'" in run("history", "--user", "nobody")[2]
    users = json.loads(run("users", "list", "--json")[1])
    assert [(u["id"], u["password"]) for u in users] == [(LOCAL_USER, False), ("fay", True)]
    assert PASSWORD not in json.dumps(users) and "$2b$" not in json.dumps(users)
    assert run("users", "disable", "fay")[0] == 0
    with AttemptStore.open(get_settings().effective_database_url) as store:
        assert sign_in(store, "fay", PASSWORD) is None
    assert run("users", "reset-password", "fay", "--password-stdin", stdin="new pass 123\n")[0] == 0
    code, _, said = run("users", "delete", "fay")
    assert code == 1 and "--purge" in said
    code, _, said = run("users", "delete", "fay", "--purge")
    assert code == 0 and "1 attempts" in said and "1 follow_ups" in said
    with AttemptStore.open(get_settings().effective_database_url) as store:
        with store.engine.connect() as conn:
            left = {
                t: conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar()
                for t in (
                    "attempts",
                    "sessions",
                    "follow_ups",
                    "review_cards",
                    "attempt_revisions",
                    "user_settings",
                )
            }
        assert set(left.values()) == {0} and [u.id for u in store.users()] == [LOCAL_USER]
    assert "single-user" in run("users", "delete", "local", "--purge")[2]


def test_a_disabled_users_chat_is_refused(fresh_app: Any) -> None:
    app = fresh_app
    store = app.engine_context().store
    store.add_user("gil")
    store.set_disabled("gil", True)

    async def scenario() -> None:
        chat = _as("gil")
        await app.on_chat_start()
        assert "disabled" in chat.last() and not chat.actions
        await app.on_start(cl.Action(name="start", payload={}))
        assert "**Problem:** This account is disabled" in chat.last()

    asyncio.run(scenario())
    assert store.sessions("gil") == []


def test_a_session_resumed_in_a_second_tab_is_driven_from_there_only(fresh_app: Any) -> None:
    app = fresh_app
    store = app.engine_context().store
    store.add_user("hal")

    async def scenario() -> None:
        first = _as("hal")
        await app.on_chat_start()
        await app.on_settings_update({"mode": "single", "question": "dd-kv-cache"})
        await app.on_start(cl.Action(name="start", payload={}))
        await app.on_message(cl.Message(content="Hal's draft: keys and values are cached."))
        copy = app._session()
        second = _as("hal")
        await app.on_chat_start()
        [offer] = [a for a in second.actions if a["name"] == "resume"]
        await app.on_resume(cl.Action(name="resume", payload=offer["payload"]))
        assert "Hal's draft" in second.last()
        _as_chat(first)
        await app.on_submit(cl.Action(name="submit", payload={}))  # the first tab's copy
        assert "resumed in another tab" in first.last() and app._session() is None
        assert copy is not None and store.attempts("hal") == []  # nothing stored from it
        _as_chat(second)
        await app.on_submit(cl.Action(name="submit", payload={}))
        assert "Score" in "".join(second.texts())

    asyncio.run(scenario())
    [attempt] = store.attempts("hal")
    assert attempt.status == "graded" and store.revisions(attempt.id, user_id="hal") == []
