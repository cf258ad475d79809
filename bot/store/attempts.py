"""The attempt store: sessions, every answer (saved before it is graded), grades, follow-ups and
review cards, over SQLAlchemy Core on SQLite (a file in the data dir) or PostgreSQL."""

from __future__ import annotations

import json
import uuid
from dataclasses import fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bot.errors import NotFoundError
from bot.grading.grade import Grade
from bot.store.database import open_engine
from bot.store.records import (
    AttemptRecord,
    CompetencySummary,
    FollowUpRecord,
    ScorePoint,
    SessionRecord,
    attempt_from_row,
    session_from_row,
    summarise,
)
from bot.store.schema import (
    GRADED,
    LOCAL_USER,
    SAVED,
    Clock,
    attempts_table,
    follow_ups_table,
    review_cards_table,
    sessions_table,
    utcnow,
)
from bot.store.submissions import Submission, Submissions, insert_attempt, storable_text
from bot.store.users import Users, conflict_insert, ensure_user

EMPTY_STATE = json.dumps({})


class AttemptStore(Submissions, Users):
    def __init__(self, engine: Engine, *, clock: Clock = utcnow) -> None:
        self.engine = engine
        self.clock = clock

    @classmethod
    def open(cls, url: str, *, clock: Clock = utcnow) -> AttemptStore:
        """Connect, create or upgrade the schema; any failure is a StoreError."""
        return cls(open_engine(url), clock=clock)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> AttemptStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # sessions

    def start_session(
        self, mode: str, *, plan: str | None = None, user_id: str = LOCAL_USER
    ) -> str:
        session_id = _new_id()
        with self.engine.begin() as conn:
            self._ensure_user(conn, user_id)
            conn.execute(
                sessions_table.insert().values(
                    id=session_id, user_id=user_id, mode=mode, plan=plan, started_at=self.clock()
                )
            )
        return session_id

    def end_session(self, session_id: str) -> None:
        self._update_session(session_id, ended_at=self.clock())

    def save_session_state(self, session_id: str, state: dict[str, Any]) -> None:
        """Replace the engine's resumable state for this session (must be JSON-serialisable)."""
        self._update_session(session_id, state_json=json.dumps(state))

    def load_session(self, session_id: str, *, user_id: str = LOCAL_USER) -> SessionRecord:
        """The user's session, its saved state and its attempts, e.g. to resume after a restart
        (another user's session is not found)."""
        s = sessions_table
        with self.engine.connect() as conn:
            mine = (s.c.id == session_id) & (s.c.user_id == user_id)
            row = conn.execute(sa.select(s).where(mine)).first()
            if row is None:
                raise NotFoundError("session", session_id, [])
            rows = conn.execute(_attempt_query().where(attempts_table.c.session_id == session_id))
            return session_from_row(row._mapping, [attempt_from_row(r._mapping) for r in rows])

    def sessions(
        self, user_id: str = LOCAL_USER, since: datetime | None = None
    ) -> list[SessionRecord]:
        """Sessions started at or after `since`, oldest first, each with its attempts."""
        s = sessions_table
        chosen = s.c.user_id == user_id
        if since is not None:
            chosen &= s.c.started_at >= since
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(s).where(chosen).order_by(s.c.started_at, s.c.id)).all()
            found = conn.execute(_attempt_query().where(chosen))  # only these sessions' attempts
            by_session: dict[str, list[AttemptRecord]] = {r.id: [] for r in rows}
            for a in (attempt_from_row(r._mapping) for r in found):
                by_session[a.session_id].append(a)
        return [session_from_row(r._mapping, by_session[r.id]) for r in rows]

    def open_session_ids(self, user_id: str = LOCAL_USER) -> list[str]:
        """Sessions not ended that have a state to resume, newest first (no attempt is read)."""
        s = sessions_table
        query = (
            sa.select(s.c.id)
            .where(s.c.user_id == user_id, s.c.ended_at.is_(None), s.c.state_json.is_not(None))
            .where(s.c.state_json != EMPTY_STATE)  # an empty state has nothing to resume
            .order_by(s.c.started_at.desc(), s.c.id.desc())
        )
        with self.engine.connect() as conn:
            return list(conn.scalars(query))

    # attempts

    def save_answer(
        self,
        *,
        session_id: str,
        question_id: str,
        kind: str,
        competency: str,
        difficulty: int,
        answer: str,
        round_name: str | None = None,
        hints_used: int = 0,
        duration_s: float | None = None,
        status: str = SAVED,
    ) -> str:
        """Store the answer as given, as a new attempt, before any grading; returns its id.

        The text is kept exactly, except where a database cannot hold it (see `storable_text`).
        The attempt is marked `seen_key_points` when an earlier attempt of the same question
        by the same user has been graded: its feedback listed the key points. The engine
        submits through `submit_answer` instead (one attempt per question per session).
        """
        submission = Submission(
            session_id, question_id, kind, competency, difficulty, answer,
            round_name, hints_used, duration_s, status,
        )  # fmt: skip
        with self.engine.begin() as conn:
            return insert_attempt(conn, submission, self.clock())

    def record_grade(self, attempt_id: str, grade: Grade) -> None:
        values = {
            "status": GRADED,
            "graded_at": self.clock(),
            "score": grade.score,
            "grade_json": grade.model_dump_json(),
            "grader": grade.grader.name,
            "grader_model": grade.grader.model,
            "grader_version": grade.grader.version,
            "rubric_id": grade.rubric_id,
            "rubric_version": grade.rubric_version,
        }
        a = attempts_table
        with self.engine.begin() as conn:
            result = conn.execute(a.update().where(a.c.id == attempt_id).values(**values))
            if result.rowcount == 0:
                raise NotFoundError("attempt", attempt_id, [])

    def attempts(
        self, user_id: str = LOCAL_USER, since: datetime | None = None
    ) -> list[AttemptRecord]:
        """The user's attempts created at or after `since`, oldest first."""
        query = _attempt_query().where(attempts_table.c.user_id == user_id)
        if since is not None:
            query = query.where(attempts_table.c.created_at >= since)
        with self.engine.connect() as conn:
            return [attempt_from_row(r._mapping) for r in conn.execute(query)]

    def grade(self, attempt_id: str) -> Grade | None:
        """The attempt's current grade (None before it is graded)."""
        a = attempts_table
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(a.c.grade_json).where(a.c.id == attempt_id)).first()
        if row is None:
            raise NotFoundError("attempt", attempt_id, [])
        return None if row.grade_json is None else Grade.model_validate_json(row.grade_json)

    def question_ids(self, user_id: str = LOCAL_USER) -> set[str]:
        """Every question the user has answered, in any session."""
        a = attempts_table
        query = sa.select(a.c.question_id).where(a.c.user_id == user_id).distinct()
        with self.engine.connect() as conn:
            return set(conn.scalars(query))

    def summary(self, user_id: str = LOCAL_USER) -> dict[str, CompetencySummary]:
        """Per competency: attempts, mean graded score, and the trend of the last five."""
        grouped: dict[str, list[ScorePoint]] = {}
        for a in self.score_points(user_id):
            grouped.setdefault(a.competency, []).append(a)
        return {name: summarise(name, rows) for name, rows in sorted(grouped.items())}

    def score_points(self, user_id: str = LOCAL_USER) -> list[ScorePoint]:
        """Every attempt of the user, oldest first, without its text or grade."""
        return self._points(_point_query().where(attempts_table.c.user_id == user_id))

    def history_page(
        self, user_id: str = LOCAL_USER, *, offset: int, limit: int
    ) -> list[ScorePoint]:
        """One page of the user's attempts, newest first: `limit` of them after `offset`."""
        a = attempts_table
        query = (
            _point_query(newest_first=True)
            .where(a.c.user_id == user_id)
            .offset(max(offset, 0))
            .limit(limit)
        )
        return self._points(query)

    def _points(self, query: sa.Select[Any]) -> list[ScorePoint]:
        with self.engine.connect() as conn:
            return [ScorePoint(**r._mapping) for r in conn.execute(query)]

    # follow-ups and spaced-repetition cards

    def save_follow_up(self, attempt_id: str, prompt: str, answer: str) -> str:
        """Store a follow-up answer (before it is graded) under its attempt."""
        follow_up_id = _new_id()
        with self.engine.begin() as conn:
            conn.execute(
                follow_ups_table.insert().values(
                    id=follow_up_id,
                    attempt_id=attempt_id,
                    prompt=prompt,
                    answer=storable_text(answer, self.engine.dialect.name),
                    created_at=self.clock(),
                )
            )
        return follow_up_id

    def follow_ups(self, attempt_id: str) -> list[tuple[str, str]]:
        """(prompt, answer) pairs of an attempt, in the order they were given."""
        f = follow_ups_table
        query = (
            sa.select(f.c.prompt, f.c.answer)
            .where(f.c.attempt_id == attempt_id)
            .order_by(f.c.created_at, f.c.id)
        )
        with self.engine.connect() as conn:
            return [(r.prompt, r.answer) for r in conn.execute(query)]

    def follow_ups_by_attempt(
        self, user_id: str = LOCAL_USER, since: datetime | None = None
    ) -> dict[str, list[FollowUpRecord]]:
        """The follow-ups of the user's attempts created at or after `since`, by attempt id, each
        attempt's in the order they were given (an attempt without any has no entry)."""
        f, a = follow_ups_table, attempts_table
        chosen = a.c.user_id == user_id
        if since is not None:
            chosen &= a.c.created_at >= since
        query = (
            sa.select(f)
            .join(a, a.c.id == f.c.attempt_id)
            .where(chosen)
            .order_by(f.c.attempt_id, f.c.created_at, f.c.id)
        )
        found: dict[str, list[FollowUpRecord]] = {}
        with self.engine.connect() as conn:
            for r in conn.execute(query):
                record = FollowUpRecord(r.attempt_id, r.prompt, r.answer, r.created_at)
                found.setdefault(r.attempt_id, []).append(record)
        return found

    def review_cards(self, user_id: str = LOCAL_USER) -> dict[str, str]:
        """item id -> the scheduler's card as JSON, soonest due first."""
        r = review_cards_table
        query = (
            sa.select(r.c.item_id, r.c.card_json)
            .where(r.c.user_id == user_id)
            .order_by(r.c.due, r.c.item_id)
        )
        with self.engine.connect() as conn:
            return {row.item_id: row.card_json for row in conn.execute(query)}

    def save_review_card(
        self, item_id: str, card_json: str, due: datetime, user_id: str = LOCAL_USER
    ) -> None:
        r = review_cards_table
        key = (r.c.user_id == user_id) & (r.c.item_id == item_id)
        with self.engine.begin() as conn:
            self._ensure_user(conn, user_id)
            updated = conn.execute(r.update().where(key).values(card_json=card_json, due=due))
            if updated.rowcount == 0:  # new card, unless another transaction adds it meanwhile
                insert = conflict_insert(conn, r).values(
                    user_id=user_id, item_id=item_id, card_json=card_json, due=due
                )
                conn.execute(
                    insert.on_conflict_do_update(
                        index_elements=[r.c.user_id, r.c.item_id],
                        set_={"card_json": insert.excluded.card_json, "due": insert.excluded.due},
                    )
                )

    # helpers

    def _ensure_user(self, conn: Connection, user_id: str) -> None:
        ensure_user(conn, user_id, self.clock())

    def _update_session(self, session_id: str, **values: object) -> None:
        s = sessions_table
        with self.engine.begin() as conn:
            result = conn.execute(s.update().where(s.c.id == session_id).values(**values))
            if result.rowcount == 0:
                raise NotFoundError("session", session_id, [])


def _new_id() -> str:
    return uuid.uuid4().hex


def _point_query(*, newest_first: bool = False) -> sa.Select[Any]:
    a = attempts_table
    columns = [a.c[f.name] for f in fields(ScorePoint)]
    order = [a.c.created_at.desc(), a.c.id.desc()] if newest_first else [a.c.created_at, a.c.id]
    return sa.select(*columns).order_by(*order)


def _attempt_query() -> sa.Select[Any]:
    a, s = attempts_table, sessions_table
    return sa.select(a, s.c.mode).join(s, s.c.id == a.c.session_id).order_by(a.c.created_at, a.c.id)
