"""Submitting an answer: one attempt per question per session, updated in place (what it held
before is kept as a revision), and where each attempt stands, so a restart finds the ones a
crash left waiting for their grade."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bot.errors import NotFoundError
from bot.store.records import AttemptRecord, attempt_from_row
from bot.store.schema import (
    GRADED,
    LOCAL_USER,
    SUBMITTED,
    Clock,
    attempt_revisions_table,
    attempts_table,
    follow_ups_table,
    sessions_table,
)

LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Submission:
    """An answer as submitted: the attempt's fields a resubmission may change."""

    session_id: str
    question_id: str
    kind: str
    competency: str
    difficulty: int
    answer: str
    round_name: str | None = None
    hints_used: int = 0
    duration_s: float | None = None
    status: str = SUBMITTED
    user_id: str = LOCAL_USER  # whose session it must be


@dataclass(frozen=True)
class Revision:
    """A version an attempt held before it was submitted again."""

    answer: str
    status: str
    score: float | None


class Submissions:
    """The submission half of AttemptStore (it supplies the engine, the clock and the insert)."""

    engine: Engine
    clock: Clock

    def submit_answer(self, submission: Submission) -> str:
        """The session's attempt of the question with this answer; returns its id.

        The first submission adds the attempt (as `save_answer`); a later one updates it in
        place, keeping the version it replaces as a revision unless that was the same answer,
        still ungraded (the same submission made again, e.g. after a restart).
        """
        with self.engine.begin() as conn:
            _hold_session(conn, submission)  # two tabs submitting wait for each other
            row = _existing(conn, submission.session_id, submission.question_id)
            if row is None:
                return insert_attempt(conn, submission, self.clock())
            _revise(conn, row, submission, self.clock())
            return str(row["id"])

    def set_status(self, attempt_id: str, status: str, *, user_id: str = LOCAL_USER) -> None:
        a = attempts_table
        mine = (a.c.id == attempt_id) & (a.c.user_id == user_id)
        with self.engine.begin() as conn:
            result = conn.execute(a.update().where(mine).values(status=status))
            if result.rowcount == 0:
                raise NotFoundError("attempt", attempt_id, [])

    def status(self, attempt_id: str, *, user_id: str = LOCAL_USER) -> str:
        a = attempts_table
        mine = (a.c.id == attempt_id) & (a.c.user_id == user_id)
        with self.engine.connect() as conn:
            found = conn.scalar(sa.select(a.c.status).where(mine))
        if found is None:
            raise NotFoundError("attempt", attempt_id, [])
        return str(found)

    def waiting_for_grade(self) -> list[AttemptRecord]:
        """Every user's attempts submitted and not graded (a crash stopped their grading): the
        one query over all users, for the restart's healer, which grades each as its user."""
        a, s = attempts_table, sessions_table
        query = (
            sa.select(a, s.c.mode)
            .join(s, s.c.id == a.c.session_id)
            .where(a.c.status == SUBMITTED)
            .order_by(a.c.submitted_at, a.c.id)
        )
        with self.engine.connect() as conn:
            return [attempt_from_row(r._mapping) for r in conn.execute(query)]

    def submissions_since(self, since: datetime, *, user_id: str = LOCAL_USER) -> int:
        """The user's answers submitted at or after `since` (each version of an attempt, and
        each follow-up answer), in every session and on every server sharing the store."""
        a, r, f = attempts_table, attempt_revisions_table, follow_ups_table
        theirs = sa.select(a.c.id).where(a.c.user_id == user_id)
        counts = [
            _count(a, a.c.user_id == user_id, a.c.submitted_at >= since),
            _count(r, r.c.attempt_id.in_(theirs), r.c.submitted_at >= since),
            _count(f, f.c.attempt_id.in_(theirs), f.c.created_at >= since),
        ]
        with self.engine.connect() as conn:
            return sum(int(conn.scalar(c) or 0) for c in counts)

    def revisions(self, attempt_id: str, *, user_id: str = LOCAL_USER) -> list[Revision]:
        """The versions the user's attempt replaced, oldest first."""
        r, a = attempt_revisions_table, attempts_table
        query = (
            sa.select(r)
            .join(a, a.c.id == r.c.attempt_id)
            .where(r.c.attempt_id == attempt_id, a.c.user_id == user_id)
            .order_by(r.c.replaced_at, r.c.id)
        )
        with self.engine.connect() as conn:
            return [Revision(x.answer, x.status, x.score) for x in conn.execute(query)]


def _count(table: sa.Table, *where: sa.ColumnElement[bool]) -> sa.Select[Any]:
    return sa.select(sa.func.count()).select_from(table).where(*where)


def _hold_session(conn: Connection, new: Submission) -> None:
    """Write-lock the user's session row (SQLite: the database) for the rest of the transaction."""
    s = sessions_table
    mine = (s.c.id == new.session_id) & (s.c.user_id == new.user_id)
    touched = conn.execute(s.update().where(mine).values(state_json=s.c.state_json))
    if touched.rowcount == 0:
        raise NotFoundError("session", new.session_id, [])


def _existing(conn: Connection, session_id: str, question_id: str) -> sa.RowMapping | None:
    a = attempts_table
    query = (
        sa.select(
            a.c.id,
            a.c.answer,
            a.c.status,
            a.c.submitted_at,
            a.c.graded_at,
            a.c.score,
            a.c.grade_json,
        )
        .where(a.c.session_id == session_id, a.c.question_id == question_id)
        .order_by(a.c.created_at.desc(), a.c.id.desc())
    )
    return conn.execute(query).mappings().first()


def _revise(conn: Connection, row: sa.RowMapping, new: Submission, now: datetime) -> None:
    answer = storable_text(new.answer, conn.dialect.name)
    same = row["answer"] == answer and row["status"] != GRADED
    if not same:
        conn.execute(
            attempt_revisions_table.insert().values(
                id=uuid.uuid4().hex,
                attempt_id=row["id"],
                answer=row["answer"],
                status=row["status"],
                submitted_at=row["submitted_at"],
                graded_at=row["graded_at"],
                score=row["score"],
                grade_json=row["grade_json"],
                replaced_at=now,
            )
        )
    a = attempts_table
    values: dict[str, object] = {
        "answer": answer,
        "status": new.status,
        "submitted_at": now,
        "hints_used": new.hints_used,
        "duration_s": new.duration_s,
    }
    if not same:  # the grade belonged to the version kept as a revision
        values |= dict.fromkeys(
            (
                "graded_at",
                "score",
                "grade_json",
                "grader",
                "grader_model",
                "grader_version",
                "rubric_id",
                "rubric_version",
            )
        )
    conn.execute(a.update().where(a.c.id == row["id"]).values(**values))


def insert_attempt(conn: Connection, new: Submission, now: datetime) -> str:
    """A new attempt holding `new`, marked `seen_key_points` when the same user has a graded
    attempt of the question already (its feedback listed the key points)."""
    s, a = sessions_table, attempts_table
    mine = (s.c.id == new.session_id) & (s.c.user_id == new.user_id)
    user_id = conn.scalar(sa.select(s.c.user_id).where(mine))
    if user_id is None:
        raise NotFoundError("session", new.session_id, [])
    attempt_id = uuid.uuid4().hex
    conn.execute(
        a.insert().values(
            id=attempt_id,
            session_id=new.session_id,
            user_id=user_id,
            question_id=new.question_id,
            kind=new.kind,
            competency=new.competency,
            difficulty=new.difficulty,
            round=new.round_name,
            answer=storable_text(new.answer, conn.dialect.name),
            created_at=now,
            submitted_at=now,
            hints_used=new.hints_used,
            duration_s=new.duration_s,
            seen_key_points=_graded_before(conn, user_id, new.question_id),
            status=new.status,
        )
    )
    return attempt_id


def storable_text(text: str, dialect: str) -> str:
    """The answer as the database can hold it: PostgreSQL refuses NUL characters in text, so
    they are stripped there (SQLite keeps them), and lone surrogates (undecodable input read
    with `surrogateescape`) cannot be UTF-8 encoded anywhere, so they become U+FFFD."""
    if dialect == "postgresql":
        text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = LONE_SURROGATE.sub("\ufffd", text)
    return text


def _graded_before(conn: Connection, user_id: str, question_id: str) -> bool:
    """Whether the user already has a graded attempt of this question (feedback was shown)."""
    a = attempts_table
    earlier = (a.c.user_id == user_id) & (a.c.question_id == question_id)
    return bool(conn.scalar(sa.select(sa.exists().where(earlier, a.c.graded_at.is_not(None)))))
