"""The retry mark (`seen_key_points`), the upgrade that adds it, and listing open sessions."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.store import (
    LOCAL_USER,
    MIGRATIONS,
    AttemptStore,
    collect_export,
    export_csv,
    export_json,
)
from bot.store.schema import migrations_table
from tests import test_history as shared
from tests.postgres import postgres_database_url, postgres_url  # noqa: F401
from tests.test_history import T0, Clock, answer, make_grade

# The store fixtures of test_history (both backends), shared under their own names.
backend, db_url, clock, store = shared.backend, shared.db_url, shared.clock, shared.store

BEFORE_SEEN_KEY_POINTS = [
    "m001_initial_schema",
    "m002_local_user",
    "m003_follow_ups_and_review_cards",
]


def seen(store: AttemptStore) -> dict[str, bool]:
    return {a.answer: a.seen_key_points for a in store.attempts()}


def test_a_retry_is_marked_only_after_an_earlier_attempt_was_graded(
    store: AttemptStore, clock: Clock
) -> None:
    sid = store.start_session("practice")
    first = answer(store, sid, "first")
    clock.tick(minutes=1)
    answer(store, sid, "second, before the first is graded")
    store.record_grade(first, make_grade(40))
    clock.tick(minutes=1)
    answer(store, sid, "third, after the feedback")
    answer(store, sid, "another question", question_id="sd-url-shortener")
    answer(store, store.start_session("drill", user_id="bob"), "bob's first", user_id="bob")

    assert seen(store) == {
        "first": False,
        "second, before the first is graded": False,
        "third, after the feedback": True,
        "another question": False,
    }
    assert [a.seen_key_points for a in store.attempts("bob")] == [False]


def test_the_mark_is_kept_when_the_retry_is_graded_and_survives_a_restart(
    db_url: str, store: AttemptStore, clock: Clock
) -> None:
    first_session, second_session = store.start_session("drill"), store.start_session("mock")
    store.record_grade(answer(store, first_session, "day one"), make_grade(50))
    clock.tick(days=1)
    retry = answer(store, second_session, "day two")  # another session, same question
    store.record_grade(retry, make_grade(80))
    store.close()

    with AttemptStore.open(db_url) as again:
        assert seen(again) == {"day one": False, "day two": True}
        assert [a.seen_key_points for a in again.load_session(second_session).attempts] == [True]


def test_exports_carry_the_mark(store: AttemptStore, clock: Clock) -> None:
    sid = store.start_session("practice")
    store.record_grade(answer(store, sid, "first"), make_grade(30))
    clock.tick(minutes=1)
    store.record_grade(answer(store, sid, "retry"), make_grade(70))

    data = collect_export(store, {})
    out = io.StringIO()
    assert export_csv(data, out) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [(r["score"], r["seen_key_points"]) for r in rows] == [
        ("30.0", "False"),
        ("70.0", "True"),
    ]
    doc = json.loads(json.dumps(export_json(data)))
    assert [a["seen_key_points"] for a in doc["attempts"]] == [False, True]


def test_a_store_made_before_the_mark_upgrades_with_old_rows_unmarked(
    db_url: str, tmp_path: Path, clock: Clock
) -> None:
    """Migrations m001-m003 are frozen, so they build exactly what the code before m004 did."""
    assert [fn.__name__ for fn in MIGRATIONS[:3]] == BEFORE_SEEN_KEY_POINTS
    (tmp_path / "nested" / "dir").mkdir(parents=True)
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        migrations_table.create(conn)
        for fn in MIGRATIONS[:3]:
            fn(conn)
            conn.execute(migrations_table.insert().values(name=fn.__name__, applied_at=T0))
        conn.execute(
            sa.text(
                "INSERT INTO sessions (id, user_id, mode, started_at)"
                " VALUES ('s1', :u, 'practice', :t)"
            ),
            {"u": LOCAL_USER, "t": T0.replace(tzinfo=None)},
        )
        for n, graded in [(1, T0.replace(tzinfo=None)), (2, None)]:
            conn.execute(
                sa.text(
                    "INSERT INTO attempts (id, session_id, user_id, question_id, kind, competency,"
                    " difficulty, answer, created_at, graded_at, score)"
                    " VALUES (:id, 's1', :u, 'dd-kv-cache', 'llm_deep_dive', 'llm-internals', 3,"
                    " :answer, :t, :graded, :score)"
                ),
                {
                    "id": f"a{n}",
                    "u": LOCAL_USER,
                    "answer": f"old {n}",
                    "t": (T0 + timedelta(minutes=n)).replace(tzinfo=None),
                    "graded": graded,
                    "score": 55.0 if graded else None,
                },
            )
    engine.dispose()

    clock.tick(hours=1)
    with AttemptStore.open(db_url, clock=clock) as upgraded:
        assert seen(upgraded) == {"old 1": False, "old 2": False}
        answer(upgraded, "s1", "new after the old graded one")
        assert seen(upgraded)["new after the old graded one"] is True
        assert upgraded.attempts()[0].score == 55.0
        with upgraded.engine.connect() as conn:
            names = list(conn.scalars(sa.select(migrations_table.c.name)))
    assert sorted(names) == sorted(fn.__name__ for fn in MIGRATIONS)


class Statements:
    """Every SQL statement an engine sends, as text."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine, self.sent = engine, list[str]()
        sa.event.listen(engine, "before_cursor_execute", self.record)

    def record(self, _conn: object, _cursor: object, statement: str, *_: object) -> None:
        self.sent.append(statement)

    def stop(self) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self.record)


@pytest.fixture
def statements(store: AttemptStore) -> Iterator[Statements]:
    recorder = Statements(store.engine)
    yield recorder
    recorder.stop()


def test_open_sessions_are_listed_in_one_query_without_reading_attempts(
    store: AttemptStore, clock: Clock, statements: Statements
) -> None:
    ended, no_state, older, newer = (store.start_session("practice") for _ in range(4))
    for sid in (ended, older, newer):
        store.save_session_state(sid, {"position": 1})
        answer(store, sid)
        clock.tick(minutes=1)
    store.end_session(ended)
    store.save_session_state(store.start_session("practice"), {})  # nothing to resume
    theirs = store.start_session("practice", user_id="bob")
    store.save_session_state(theirs, {"position": 0}, user_id="bob")
    older_start, newer_start = (store.load_session(s).started_at for s in (older, newer))

    statements.sent.clear()
    found = store.open_session_ids()
    assert len(statements.sent) == 1 and "attempts" not in statements.sent[0]
    assert older_start == newer_start  # the same clock reading: the id breaks the tie
    assert found == sorted([older, newer], reverse=True)
    assert no_state not in found and ended not in found
    assert store.open_session_ids("bob") == [theirs]
    assert store.open_session_ids("nobody") == []


def test_open_sessions_newest_first(store: AttemptStore, clock: Clock) -> None:
    first = store.start_session("practice")
    clock.tick(minutes=1)
    second = store.start_session("mock")
    for sid in (first, second):
        store.save_session_state(sid, {"position": 0})
    assert store.open_session_ids() == [second, first]
