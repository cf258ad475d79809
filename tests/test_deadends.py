"""No dead ends (#19): settings per user showing only the chosen mode's fields, a question before
a Start leaves a session behind, stale buttons that offer the unfinished sessions, Resume and
Discard for each of them, and the history chart in the theme with its pass and hire lines."""

from __future__ import annotations

import json

import chainlit as cl
import pytest

from bot.interview import InterviewSession
from bot.interview.progress import user_progress
from bot.interview.unfinished import discard, unfinished_sessions
from bot.store import AttemptStore
from bot.web import app, choices, sessions
from tests import test_history as shared
from tests.postgres import postgres_database_url, postgres_url  # noqa: F401
from tests.test_history import Clock, answer, make_grade
from tests.test_web import Recorder, _fresh_engine, act, in_chainlit  # noqa: F401

backend, db_url, clock, store = shared.backend, shared.db_url, shared.clock, shared.store


# --- the store: settings per user (m007) ----------------------------------------------------------


def test_settings_are_kept_per_user_and_replaced(store: AttemptStore, clock: Clock) -> None:
    assert store.user_settings("local") == {}
    store.save_user_settings("local", {"mode": "mock", "plan": "quick"})
    store.save_user_settings("ada", {"mode": "single", "question": "dd-kv-cache"})
    clock.tick(minutes=1)
    store.save_user_settings("local", {"mode": "drill", "competency": "C2"})
    assert store.user_settings("local") == {"mode": "drill", "competency": "C2"}
    assert store.user_settings("ada") == {"mode": "single", "question": "dd-kv-cache"}
    assert store.user_settings("nobody") == {}


def test_open_sessions_come_with_their_state_newest_first(
    store: AttemptStore, clock: Clock
) -> None:
    ids = []
    for n in range(3):
        ids.append(store.start_session("drill"))
        store.save_session_state(ids[-1], {"n": n})
        clock.tick(minutes=1)
    older, newer, ended = ids
    store.end_session(ended)
    found = store.open_sessions()
    assert [(s.id, s.state) for s in found] == [(newer, {"n": 1}), (older, {"n": 0})]
    assert ended not in [s.id for s in found] and all(s.attempts == [] for s in found)
    assert [s.id for s in found] == store.open_session_ids()


# --- the settings panel ------------------------------------------------------------------------


def test_only_the_chosen_modes_fields_are_shown_and_kept_for_the_next_chat() -> None:
    in_chainlit(_only_the_chosen_modes_fields)


async def _only_the_chosen_modes_fields(ui: Recorder) -> None:
    await app.on_chat_start()
    assert list(ui.settings[-1]) == list(choices.FIELDS["drill"])
    drill = {"mode": "drill", "competency": "C2", "tag": None, "difficulty": 2}
    await app.on_settings_edit({**drill, "level": "mid", "grader": "auto"})
    assert len(ui.settings) == 1, "an edit within the same mode sends nothing"
    await app.on_settings_edit({"mode": "mock", "competency": "C2", "difficulty": 4})
    shown = ui.settings[-1]
    assert list(shown) == list(choices.FIELDS["mock"])
    assert shown["plan"]["initial"] == "standard" and shown["mode"]["initial"] == "mock"
    mock = {"mode": "mock", "plan": "quick", "minutes": "12, 8", "level": "mid", "grader": "auto"}
    await app.on_settings_update(mock)
    assert "Mock interview, plan 'quick'" in ui.last() and len(ui.settings) == 2
    # the panel's Cancel brought back the drill fields: picking mock again sends them anew
    await app.on_settings_edit({**drill, "mode": "mock", "level": "mid", "grader": "auto"})
    assert list(ui.settings[-1]) == list(choices.FIELDS["mock"]) and len(ui.settings) == 3
    await app.on_settings_edit({"mode": "drill", "plan": "quick"})
    back = ui.settings[-1]
    assert list(back) == list(choices.FIELDS["drill"])
    assert back["competency"]["initial"] == "C3", "a value only edited, never saved, is not kept"
    kept = app.engine_context().store.user_settings("local")
    assert kept["mode"] == "mock" and kept["plan"] == "quick" and kept["minutes"] == "12, 8"

    # a new chat (a reload, a restart) starts from what was saved, in that mode's fields
    ui.settings.clear()
    await app.on_chat_start()
    assert list(ui.settings[-1]) == list(choices.FIELDS["mock"])
    assert ui.settings[-1]["plan"]["initial"] == "quick"
    assert ui.settings[-1]["minutes"]["initial"] == "12, 8"
    assert "Mock interview, plan 'quick'" in ui.last()
    # an emptied field goes back to its default
    await app.on_settings_update({"mode": "mock", "plan": "quick", "minutes": None})
    assert app.engine_context().store.user_settings("local")["minutes"] == ""


def test_a_saved_value_no_longer_offered_falls_back_to_its_default() -> None:
    in_chainlit(_a_saved_value_no_longer_offered)


async def _a_saved_value_no_longer_offered(ui: Recorder) -> None:
    store = app.engine_context().store
    store.save_user_settings("local", {"mode": "mock", "plan": "gone", "level": "wizard"})
    await app.on_chat_start()
    assert ui.settings[-1]["plan"]["initial"] == "standard"
    assert ui.settings[-1]["level"]["initial"] == "mid"


# --- Start while a session is open -----------------------------------------------------------


def test_start_while_a_session_runs_asks_first() -> None:
    in_chainlit(_start_while_a_session_runs_asks_first)


async def _start_while_a_session_runs_asks_first(ui: Recorder) -> None:
    ctx = app.engine_context()
    await app.on_chat_start()
    await app.on_start(act("start"))
    first = app._session()
    assert first is not None
    await app.on_start(act("start"))  # an old Start button, pressed again
    assert "is running in this chat" in ui.last() and "Drill C3" in ui.last()
    asked = {a["label"]: a for a in ui.actions[-2:]}
    assert set(asked) == {sessions.CONTINUE, sessions.ABANDON}
    assert app._session() is first and len(ctx.store.sessions()) == 1, "nothing started yet"

    await app.on_room(act("room"))  # Continue: the room comes back, the same session
    room = ui.room()
    assert room is not None and room["session"] == first.id

    await app.on_start(act("start", **asked[sessions.ABANDON]["payload"]))
    second = app._session()
    assert second is not None and second.id != first.id
    assert ctx.store.load_session(first.id).ended_at is not None
    assert ctx.store.open_session_ids() == [second.id]


def test_start_in_a_new_chat_keeps_the_unfinished_session_listed() -> None:
    in_chainlit(_start_in_a_new_chat)


async def _start_in_a_new_chat(ui: Recorder) -> None:
    ctx = app.engine_context()
    left, _ = InterviewSession.start_single(ctx, "sd-url-shortener")  # another tab, or a restart
    await app.on_chat_start()
    await app.on_start(act("start"))  # nothing runs in this chat: it starts at once
    started = app._session()
    assert started is not None and started.id != left.id
    assert set(ctx.store.open_session_ids()) == {left.id, started.id}, "nothing abandoned unasked"
    await app.on_chat_start()
    title = ctx.bank.question("sd-url-shortener").title
    assert f"Single question: {title}" in ui.last()


# --- stale buttons and the list of unfinished sessions ---------------------------------------


def test_a_stale_button_offers_every_unfinished_session() -> None:
    in_chainlit(_a_stale_button_offers_every_unfinished_session)


async def _a_stale_button_offers_every_unfinished_session(ui: Recorder) -> None:
    ctx = app.engine_context()
    ids = []
    for question in ("sd-url-shortener", "dd-kv-cache", "beh-production-incident"):
        session, _ = InterviewSession.start_single(ctx, question)
        ids.append(session.id)
    await app.on_chat_start()
    assert "1. Single question: " in ui.last() and "3. Single question: " in ui.last()
    labels = [a["label"] for a in ui.actions if a["name"] in ("resume", "discard")]
    assert labels == ["Resume 1", "Discard 1", "Resume 2", "Discard 2", "Resume 3", "Discard 3"]

    await app.on_submit(act("submit"))  # a Submit from before the restart
    assert sessions.NOT_OPEN in ui.last() and "No session is running" not in ui.last()
    offered = [a["payload"]["id"] for a in ui.actions[-7:] if a["name"] == "resume"]
    assert offered == ids[::-1], "newest first, every one of them"

    await app.on_discard(act("discard", id=ids[0]))
    assert ui.last().startswith("Discarded.")
    assert [u.id for u in unfinished_sessions(ctx)] == ids[:0:-1]
    assert ctx.store.load_session(ids[0]).ended_at is not None
    await app.on_discard(act("discard", id=ids[0]))  # its button, pressed again
    assert ui.last().startswith("That session was not open any more.")


def test_text_sent_without_a_session_goes_into_the_resumed_answer() -> None:
    in_chainlit(_text_sent_without_a_session)


async def _text_sent_without_a_session(ui: Recorder) -> None:
    ctx = app.engine_context()
    left, _ = InterviewSession.start_single(ctx, "dd-kv-cache")
    await app.on_chat_start()
    await app.on_message(cl.Message(content="The cache holds keys and values per layer."))
    assert sessions.NOT_SENT in ui.last()
    await app.on_resume(act("resume", id=left.id))
    session = app._session()
    assert session is not None and session.state.current is not None
    assert session.state.current.draft == ["The cache holds keys and values per layer."]
    assert "words so far" in ui.last()


def test_resume_of_an_ended_or_foreign_session_offers_the_open_ones() -> None:
    in_chainlit(_resume_of_an_ended_session)


async def _resume_of_an_ended_session(ui: Recorder) -> None:
    ctx = app.engine_context()
    ended, _ = InterviewSession.start_single(ctx, "dd-kv-cache")
    assert discard(ctx, ended.id) and not discard(ctx, ended.id)
    sid = ctx.store.start_session("single", user_id="someone-else")
    ctx.store.save_session_state(sid, {"mode": "single"}, user_id="someone-else")
    await app.on_chat_start()
    for stale in (ended.id, sid):
        await app.on_resume(act("resume", id=stale))
        assert "**Problem:** that session has ended or is not yours" in ui.last()
        assert "No session is running" in ui.last() and app._session() is None
    assert not discard(ctx, sid), "another user's session is not discarded"


# --- the history chart --------------------------------------------------------------------------


def test_the_chart_names_competencies_and_draws_the_pass_and_hire_lines() -> None:
    in_chainlit(_the_chart)


async def _the_chart(ui: Recorder) -> None:
    store = app.engine_context().store
    sid = store.start_session("drill")
    for question, kind, competency, score in (
        ("dd-kv-cache", "llm_deep_dive", "C6", 55),
        ("sd-url-shortener", "system_design", "C4", 75),
    ):
        attempt = answer(
            store, sid, question_id=question, kind=kind, competency=competency, difficulty=3
        )
        store.record_grade(attempt, make_grade(score))
    await app.on_chat_start()
    await app.on_settings_update({"mode": "drill", "level": "senior"})
    await app.on_history(act("history"))
    [chart] = [e for e in ui.elements if e["type"] == "plotly"]
    figure = json.loads(_content(chart))
    assert figure["config"]["displayModeBar"] is False
    layout = figure["layout"]
    assert layout["paper_bgcolor"] == layout["plot_bgcolor"] == "rgba(0,0,0,0)"
    names = {t["name"] for t in figure["data"]}
    assert any(n.startswith("C6 ") and len(n) > 4 for n in names) and len(names) == 2
    lines = sorted({s["y0"] for s in layout["shapes"]})
    # the bars readiness uses (the competency's rubrics at the chosen level): one source
    bars = {r.competency: r.bar for r in user_progress(app.engine_context(), "senior").readiness}
    assert lines == sorted({60, bars["C4"], bars["C6"]}) and bars["C4"] > 70
    texts = [a["text"] for a in layout["annotations"]]
    hire = f"senior hire bar {bars['C4']}"  # one label, naming each bar when they differ
    if bars["C4"] != bars["C6"]:
        hire = f"senior hire bar: C4 {bars['C4']} · C6 {bars['C6']}"
    assert texts == ["pass 60", hire]


def _content(element: dict[str, object]) -> str:
    from chainlit.context import context

    key = element.get("chainlitKey")
    assert isinstance(key, str) and key in context.session.files
    return str(context.session.files[key]["path"].read_text(encoding="utf-8"))


@pytest.mark.parametrize("mode", list(choices.MODES))
def test_every_mode_shows_mode_level_and_grader(mode: str) -> None:
    fields = choices.FIELDS[mode]
    assert fields[0] == "mode" and {"level", "grader"} <= set(fields)
    assert set(fields) <= set(choices.DEFAULTS)
