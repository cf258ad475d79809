"""Limits per user: submissions a minute (over every tab of the user), and the caps on an
answer's size, each with a message that says what happened."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import get_settings
from bot.content import ContentBank
from bot.errors import NotFoundError
from bot.interview import EngineContext, InterviewSession, editor
from bot.interview import events as ev
from bot.store import AttemptStore
from tests.test_session import GRADERS, Clock, bank, clock, of  # noqa: F401

ANSWER = "Cache the keys and values of earlier tokens so each step attends without recomputing."


@pytest.fixture
def ctx(
    bank: ContentBank,  # noqa: F811
    clock: Clock,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[EngineContext]:
    monkeypatch.setenv("INTERVIEW_BOT_SUBMIT_PER_MINUTE", "2")
    get_settings.cache_clear()
    store = AttemptStore.open(f"sqlite:///{tmp_path / 'h.db'}", clock=clock)
    yield EngineContext(get_settings(), bank, store, clock=clock, _graders=GRADERS, user_id="ann")
    store.close()


def _answered(ctx: EngineContext, question: str) -> tuple[InterviewSession, list[ev.Event]]:
    session, _ = InterviewSession.start_single(ctx, question, grader="offline")
    session.say(ANSWER)
    return session, session.submit()


def test_submissions_past_the_rate_wait_and_lose_nothing(
    ctx: EngineContext,
    clock: Clock,  # noqa: F811
) -> None:
    for question in ("dd-kv-cache", "sd-url-shortener"):  # two tabs of one user
        assert of(_answered(ctx, question)[1], ev.Graded)
    third, refused = _answered(ctx, "beh-production-incident")
    [notice] = of(refused, ev.Notice)
    assert "submitted 2 answers in the last minute and the limit is 2" in notice.text
    assert not of(refused, ev.Graded) and len(ctx.store.attempts("ann")) == 2
    assert third.state.current is not None and third.state.current.answer == ANSWER
    other = ctx.for_user("ben")  # another user's rate is their own
    assert of(_answered(other, "dd-kv-cache")[1], ev.Graded)
    clock.advance(seconds=61)
    assert of(third.submit(), ev.Graded)
    assert [a.answer for a in ctx.store.attempts("ann")][-1] == ANSWER


def test_a_time_out_submits_whatever_the_rate(ctx: EngineContext) -> None:
    for question in ("dd-kv-cache", "sd-url-shortener"):
        _answered(ctx, question)
    session, _ = InterviewSession.start_single(ctx, "beh-production-incident", grader="offline")
    session.say(ANSWER)
    assert of(session.submit(timed_out=True), ev.Graded)


def test_code_past_the_cap_is_cut_and_said(ctx: EngineContext) -> None:
    session, _ = InterviewSession.start_single(ctx, "coding-pair-sum-indices", grader="offline")
    code = "def f():\n" + "    x = 1\n" * (editor.MAX_CODE_CHARS // 10 + 10)
    [notice] = of(session.write_code(code), ev.Notice)
    assert notice.text == editor.CODE_CUT
    assert session.state.current is not None
    assert len(session.state.current.code) <= editor.MAX_CODE_CHARS + 1


def test_another_users_session_does_not_resume(ctx: EngineContext) -> None:
    session, _ = InterviewSession.start_single(ctx, "dd-kv-cache", grader="offline")
    session.say(ANSWER)
    other = ctx.for_user("ben")
    assert InterviewSession.unfinished(ctx.store, "ben") == []
    with pytest.raises(NotFoundError):
        InterviewSession.resume(other, session.id)
    resumed, _ = InterviewSession.resume(ctx, session.id)
    assert resumed.state.current is not None and resumed.state.current.answer == ANSWER
