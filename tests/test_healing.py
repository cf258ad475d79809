"""Crashes heal: an answer whose grading a crash stopped is graded at the next start, and Resume
then Submit never adds a second attempt (one per question per session, updated in place, its
earlier versions kept). On SQLite and on a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.config import PROJECT_ROOT, get_settings
from bot.content import ContentBank, load_bank
from bot.interview import EngineContext, InterviewSession
from bot.interview import engine as engine_module
from bot.interview import events as ev
from bot.interview.healing import heal
from bot.store import (
    GRADED,
    LOCAL_USER,
    MIGRATIONS,
    SAVED,
    SUBMITTED,
    UNGRADED,
    AttemptStore,
    Submission,
)
from bot.store.schema import migrations_table
from tests import test_history as shared
from tests.postgres import postgres_database_url, postgres_url  # noqa: F401
from tests.test_history import T0, Clock, make_grade

backend, db_url, clock, store = shared.backend, shared.db_url, shared.clock, shared.store
ANSWER = (
    "The KV cache keeps the keys and values of earlier tokens so each decoding step attends to "
    "them without recomputing; its memory grows with sequence length and batch size."
)
QUESTION = "dd-kv-cache"


class Killed(BaseException):
    """The server dying mid-grade: nothing after this point runs, no handler catches it."""


@pytest.fixture(scope="module")
def bank() -> ContentBank:
    return load_bank(PROJECT_ROOT)


def restart(url: str, bank: ContentBank) -> EngineContext:
    """A new process's view: a new store on the same database, new graders."""
    return EngineContext(get_settings(), bank, AttemptStore.open(url))


@pytest.fixture
def crashed(
    db_url: str, bank: ContentBank, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, str]]:
    """A single-question session whose answer was submitted and whose grading was killed:
    (database URL, session id)."""
    ctx = restart(db_url, bank)
    session, _ = InterviewSession.start_single(ctx, QUESTION, grader="offline")
    session.say(ANSWER)

    def die(*_: Any, **__: Any) -> None:
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr("bot.interview.attempt.grade_answer", die)
        with pytest.raises(Killed):
            session.submit()
    ctx.store.close()
    yield db_url, session.id


def attempts_of(ctx: EngineContext) -> list[Any]:
    return [a for a in ctx.store.attempts() if a.question_id == QUESTION]


def test_a_restart_grades_what_the_crash_left_and_resume_shows_it(
    crashed: tuple[str, str], bank: ContentBank
) -> None:
    url, session_id = crashed
    ctx = restart(url, bank)
    [waiting] = attempts_of(ctx)
    assert waiting.status == SUBMITTED and waiting.score is None and waiting.answer == ANSWER
    assert heal(ctx).graded == 1
    assert ctx.store.waiting_for_grade() == []

    session, events = InterviewSession.resume(ctx, session_id)
    assert isinstance(events[0], ev.Notice) and "graded when it restarted" in events[0].text
    graded = next(e for e in events if isinstance(e, ev.Graded))
    assert isinstance(events[-1], ev.SessionEnded)
    [attempt] = attempts_of(ctx)
    assert attempt.status == GRADED and attempt.score == graded.grade.score
    ctx.store.close()


def test_resume_then_submit_grades_the_same_attempt(
    crashed: tuple[str, str], bank: ContentBank
) -> None:
    url, session_id = crashed
    ctx = restart(url, bank)  # no healing pass: the candidate comes back first
    session, events = InterviewSession.resume(ctx, session_id)
    assert any(isinstance(e, ev.Notice) and "press **Submit**" in e.text for e in events)
    assert isinstance(events[0], ev.QuestionAsked) and events[0].draft == ANSWER
    after = session.submit()
    assert any(isinstance(e, ev.Graded) for e in after)
    [attempt] = attempts_of(ctx)
    assert attempt.status == GRADED and attempt.answer == ANSWER
    assert ctx.store.revisions(attempt.id) == [], "the same answer again is not a new version"
    ctx.store.close()


def test_an_answer_changed_after_resume_updates_the_attempt_and_keeps_the_old_version(
    crashed: tuple[str, str], bank: ContentBank
) -> None:
    url, session_id = crashed
    ctx = restart(url, bank)
    session, _ = InterviewSession.resume(ctx, session_id)
    session.say("It is paged in blocks so memory is not fragmented.")
    session.submit()
    [attempt] = attempts_of(ctx)
    assert attempt.answer.startswith(ANSWER) and attempt.answer.endswith("fragmented.")
    assert [(r.answer, r.status) for r in ctx.store.revisions(attempt.id)] == [(ANSWER, SUBMITTED)]
    ctx.store.close()


def test_a_crash_before_the_state_knew_its_attempt_still_makes_no_duplicate(
    crashed: tuple[str, str], bank: ContentBank
) -> None:
    """Killed between storing the attempt and saving the session's state: the state has no
    attempt id, the store has the attempt; Submit finds it."""
    url, session_id = crashed
    ctx = restart(url, bank)
    state = ctx.store.load_session(session_id).state
    assert state is not None and state["current"]["attempt_id"]
    state["current"]["attempt_id"] = None
    ctx.store.save_session_state(session_id, state)
    session, _ = InterviewSession.resume(ctx, session_id)
    session.submit()
    assert len(attempts_of(ctx)) == 1
    ctx.store.close()


def test_an_answer_that_cannot_be_graded_is_marked_and_the_chat_says_resubmit(
    crashed: tuple[str, str], bank: ContentBank, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, session_id = crashed
    ctx = restart(url, bank)

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("the grader is down")

    monkeypatch.setattr("bot.interview.attempt.grade_answer", broken)
    healed = heal(ctx)
    assert (healed.graded, healed.ungraded) == (0, 1)
    [attempt] = attempts_of(ctx)
    assert attempt.status == UNGRADED
    assert heal(ctx).ungraded == 0, "an ungraded attempt waits for the candidate, not a restart"
    _, events = InterviewSession.resume(ctx, session_id)
    assert any(isinstance(e, ev.Notice) and e.text == engine_module.RESUBMIT for e in events)
    ctx.store.close()


def test_one_attempt_per_question_per_session_with_its_versions(
    store: AttemptStore, clock: Clock
) -> None:
    sid = store.start_session("drill")
    first = Submission(sid, QUESTION, "llm_deep_dive", "C6", 3, "first")
    a = store.submit_answer(first)
    store.record_grade(a, make_grade(40))
    clock.tick(minutes=1)
    assert store.submit_answer(Submission(sid, QUESTION, "llm_deep_dive", "C6", 3, "second")) == a
    assert store.submit_answer(Submission(sid, QUESTION, "llm_deep_dive", "C6", 3, "second")) == a
    [attempt] = store.attempts()
    assert (attempt.answer, attempt.status, attempt.score) == ("second", SUBMITTED, None)
    assert [(r.answer, r.status, r.score) for r in store.revisions(a)] == [
        ("first", GRADED, make_grade(40).score)
    ]
    other = store.submit_answer(
        Submission(store.start_session("drill"), QUESTION, "k", "C6", 3, "x")
    )
    assert other != a and len(store.attempts()) == 2


def test_a_store_before_statuses_upgrades_graded_rows_graded_and_others_saved(
    db_url: str, clock: Clock, tmp_path: Path
) -> None:
    (tmp_path / "nested" / "dir").mkdir(parents=True)  # where the SQLite URL points
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        migrations_table.create(conn)
        for fn in MIGRATIONS[:4]:
            fn(conn)
            conn.execute(migrations_table.insert().values(name=fn.__name__, applied_at=T0))
        conn.execute(
            sa.text(
                "INSERT INTO sessions (id, user_id, mode, started_at)"
                " VALUES ('s1', :u, 'drill', :t)"
            ),
            {"u": LOCAL_USER, "t": T0.replace(tzinfo=None)},
        )
        for n, grade in [(1, make_grade(55).model_dump_json()), (2, None)]:
            conn.execute(
                sa.text(
                    "INSERT INTO attempts (id, session_id, user_id, question_id, kind, competency,"
                    " difficulty, answer, created_at, grade_json)"
                    " VALUES (:id, 's1', :u, :q, 'llm_deep_dive', 'C6', 3, 'old', :t, :g)"
                ),
                {
                    "id": f"a{n}",
                    "u": LOCAL_USER,
                    "q": f"q{n}",
                    "t": (T0 + timedelta(minutes=n)).replace(tzinfo=None),
                    "g": grade,
                },
            )
    engine.dispose()
    with AttemptStore.open(db_url, clock=clock) as upgraded:
        assert [a.status for a in upgraded.attempts()] == [GRADED, SAVED]
        assert upgraded.waiting_for_grade() == []
