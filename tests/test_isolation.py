"""Isolation in the store: every public method, called as one user with another user's ids,
neither reads nor changes a row of theirs (SQLite and PostgreSQL)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from bot.errors import NotFoundError
from bot.store import AttemptStore, Submission, metadata
from tests.postgres import postgres_database_url, postgres_url  # noqa: F401
from tests.test_history import backend, clock, db_url, make_grade  # noqa: F401
from tests.test_history import store as store  # noqa: F401 - the fixture, on both backends

A, B = "alice", "bob"
# Methods over every user on purpose: the restart's healer, and the admin's user commands.
NOT_PER_USER = {
    "open",
    "close",
    "waiting_for_grade",
    "add_user",
    "admit_user",
    "user",
    "find_user",
    "users",
    "password_hash",
    "set_password_hash",
    "set_disabled",
    "delete_user",
}


@dataclass(frozen=True)
class Owned:
    session: str
    attempt: str
    text: str


def _own(db: AttemptStore, user: str) -> Owned:
    """A user with a session left open, a graded attempt answered twice (one revision), a
    follow-up and a review card; every text carries the user's name."""
    sid = db.start_session("drill", user_id=user)
    db.save_session_state(sid, {"by": user}, user_id=user)
    fields = ("dd-kv-cache", "llm_deep_dive", "C6", 3)
    first = Submission(sid, *fields, f"first answer of {user}", user_id=user)
    aid = db.submit_answer(first)
    db.record_grade(aid, make_grade(), user_id=user)
    db.submit_answer(Submission(sid, *fields, f"answer of {user}", user_id=user))
    db.record_grade(aid, make_grade(80), user_id=user)
    db.save_follow_up(aid, "why?", f"follow-up of {user}", user_id=user)
    due = datetime(2026, 12, 1, tzinfo=UTC)
    db.save_review_card("dd-kv-cache", f'{{"of": "{user}"}}', due, user_id=user)
    db.save_user_settings(user, {"mode": "drill", "tag": f"settings of {user}"})
    return Owned(sid, aid, user)


def _rows(db: AttemptStore) -> dict[str, list[tuple[Any, ...]]]:
    with db.engine.connect() as conn:
        return {
            name: sorted(tuple(map(str, r)) for r in conn.execute(sa.select(table)))
            for name, table in metadata.tables.items()
            if name != "migrations"
        }


def _cases(b: Owned) -> dict[str, Callable[[AttemptStore], object]]:
    """Each per-user method called as A, with B's session or attempt where it takes an id."""
    grade = make_grade(1)
    sub = Submission(b.session, "dd-kv-cache", "llm_deep_dive", "C6", 3, "A's text", user_id=A)
    return {
        "start_session": lambda s: s.start_session("single", user_id=A),
        "end_session": lambda s: s.end_session(b.session, user_id=A),
        "hold_session": lambda s: s.hold_session(b.session, "A's tab", user_id=A),
        "save_session_state": lambda s: s.save_session_state(b.session, {"x": 1}, user_id=A),
        "load_session": lambda s: s.load_session(b.session, user_id=A),
        "sessions": lambda s: s.sessions(A),
        "open_session_ids": lambda s: s.open_session_ids(A),
        "open_sessions": lambda s: s.open_sessions(A),
        "user_settings": lambda s: s.user_settings(A),
        "save_user_settings": lambda s: s.save_user_settings(A, {"mode": "single"}),
        "save_answer": lambda s: s.save_answer(
            session_id=b.session,
            question_id="dd-kv-cache",
            kind="llm_deep_dive",
            competency="C6",
            difficulty=3,
            answer="A's text",
            user_id=A,
        ),
        "submit_answer": lambda s: s.submit_answer(sub),
        "record_grade": lambda s: s.record_grade(b.attempt, grade, user_id=A),
        "attempts": lambda s: s.attempts(A),
        "grade": lambda s: s.grade(b.attempt, user_id=A),
        "question_ids": lambda s: s.question_ids(A),
        "summary": lambda s: s.summary(A),
        "score_points": lambda s: s.score_points(A),
        "history_page": lambda s: s.history_page(A, offset=0, limit=50),
        "save_follow_up": lambda s: s.save_follow_up(b.attempt, "p", "A's text", user_id=A),
        "follow_ups": lambda s: s.follow_ups(b.attempt, user_id=A),
        "follow_ups_by_attempt": lambda s: s.follow_ups_by_attempt(A),
        "review_cards": lambda s: s.review_cards(A),
        "save_review_card": lambda s: s.save_review_card(
            "dd-kv-cache", "{}", datetime(2026, 12, 2, tzinfo=UTC), user_id=A
        ),
        "set_status": lambda s: s.set_status(b.attempt, "saved", user_id=A),
        "status": lambda s: s.status(b.attempt, user_id=A),
        "revisions": lambda s: s.revisions(b.attempt, user_id=A),
        "submissions_since": lambda s: s.submissions_since(datetime(2000, 1, 1), user_id=A),
    }


def _mentions(found: object, b: Owned) -> bool:
    text = repr(found)
    return any(marker in text for marker in (b.session, b.attempt, f"of {b.text}"))


def test_no_store_method_reaches_another_users_rows(store: AttemptStore) -> None:  # noqa: F811
    _own(store, A)
    b = _own(store, B)
    cases = _cases(b)
    public = {n for n, _ in inspect.getmembers(AttemptStore) if not n.startswith("_")}
    public -= {n for n, v in vars(AttemptStore).items() if isinstance(v, property)}
    assert public == set(cases) | NOT_PER_USER, "a new store method needs an isolation case"

    def bobs(rows: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
        marks = (B, b.session, b.attempt)  # B's name (user ids, texts) and B's ids
        return {
            t: [r for r in rs if any(m in v for v in r for m in marks)] for t, rs in rows.items()
        }

    before = bobs(_rows(store))
    reads = refused = 0
    for call in cases.values():
        try:
            found = call(store)
        except NotFoundError:
            refused += 1
            continue
        reads += _mentions(found, b)
    writes = sum(
        before[t] != rows for t, rows in bobs(_rows(store)).items()
    )  # B's rows unchanged, whatever A did
    assert (reads, writes) == (0, 0)
    assert refused == 11  # every call naming B's session or attempt, except the two reads
    assert store.load_session(b.session, user_id=B).state == {"by": B}
    assert [r.answer for r in store.revisions(b.attempt, user_id=B)] == [f"first answer of {B}"]
    assert store.follow_ups(b.attempt, user_id=B) == [("why?", f"follow-up of {B}")]
    # A: the attempt, its revision and the follow-up; B's own count is B's
    assert store.submissions_since(datetime(2000, 1, 1), user_id=A) == 3
    assert store.submissions_since(datetime(2000, 1, 1), user_id=B) == 3


def test_a_user_reads_their_own_rows(store: AttemptStore) -> None:  # noqa: F811
    a = _own(store, A)
    _own(store, B)
    assert [s.id for s in store.sessions(A)] == [a.session]
    assert store.open_session_ids(A) == [a.session]
    assert [x.answer for x in store.attempts(A)] == [f"answer of {A}"]
    assert store.grade(a.attempt, user_id=A) is not None
    assert store.review_cards(A) == {"dd-kv-cache": f'{{"of": "{A}"}}'}
    with pytest.raises(NotFoundError):
        store.grade(a.attempt, user_id=B)
