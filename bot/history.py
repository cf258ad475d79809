"""The attempt store: sessions, every answer (saved before it is graded), grades, and export.

SQLAlchemy Core over SQLite (the default, a file in the data dir) or PostgreSQL. The schema is
made by a plain list of migration functions, each recorded by name in the `migrations` table.
"""

from __future__ import annotations

import csv
import json
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect, Engine

from bot.config import mask_url
from bot.errors import BotError, NotFoundError
from bot.grading.grade import Grade

LOCAL_USER = "local"
EXPORT_FORMAT_VERSION = 1
TREND_WINDOW = 5
Clock = Callable[[], datetime]
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class StoreError(BotError):
    """The attempt store cannot be opened; the message names the URL with its password masked."""


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Stored as naive UTC on every backend, read back as aware UTC. Naive input means UTC."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is None:
            return value
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


# The current schema, used by queries. Migrations below do not use these objects: each one
# freezes the schema of its own step, so a later column added here cannot break an older step.
metadata = sa.MetaData()
migrations_table = sa.Table(
    "migrations",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("applied_at", UTCDateTime, nullable=False),
)
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)
sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("user_id", sa.Text, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("mode", sa.Text, nullable=False),
    sa.Column("plan", sa.Text),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("ended_at", UTCDateTime),
    sa.Column("state_json", sa.Text),
)
attempts = sa.Table(
    "attempts",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("session_id", sa.Text, sa.ForeignKey("sessions.id"), nullable=False),
    sa.Column("user_id", sa.Text, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("question_id", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("competency", sa.Text, nullable=False),
    sa.Column("difficulty", sa.Integer, nullable=False),
    sa.Column("round", sa.Text),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("submitted_at", UTCDateTime),
    sa.Column("graded_at", UTCDateTime),
    sa.Column("hints_used", sa.Integer, nullable=False, server_default="0"),
    sa.Column("duration_s", sa.Float),
    sa.Column("score", sa.Float),
    sa.Column("grade_json", sa.Text),
    sa.Column("grader", sa.Text),
    sa.Column("grader_model", sa.Text),
    sa.Column("grader_version", sa.Text),
    sa.Column("rubric_id", sa.Text),
    sa.Column("rubric_version", sa.Integer),
)

follow_ups = sa.Table(
    "follow_ups",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("attempt_id", sa.Text, sa.ForeignKey("attempts.id"), nullable=False),
    sa.Column("prompt", sa.Text, nullable=False),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)
review_cards = sa.Table(
    "review_cards",
    metadata,
    sa.Column("user_id", sa.Text, sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("item_id", sa.Text, primary_key=True),
    sa.Column("card_json", sa.Text, nullable=False),
    sa.Column("due", UTCDateTime, nullable=False),
)


# --- migrations -------------------------------------------------------------------------------

Migration = Callable[[Connection], None]
MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append(fn)
    return fn


@migration
def m001_initial_schema(conn: Connection) -> None:
    md = sa.MetaData()
    sa.Table(
        "users",
        md,
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    sa.Table(
        "sessions",
        md,
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Text, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("mode", sa.Text, nullable=False),
        sa.Column("plan", sa.Text),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("ended_at", UTCDateTime),
        sa.Column("state_json", sa.Text),
    )
    sa.Table(
        "attempts",
        md,
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("session_id", sa.Text, sa.ForeignKey("sessions.id"), nullable=False),
        sa.Column("user_id", sa.Text, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("question_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("competency", sa.Text, nullable=False),
        sa.Column("difficulty", sa.Integer, nullable=False),
        sa.Column("round", sa.Text),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("submitted_at", UTCDateTime),
        sa.Column("graded_at", UTCDateTime),
        sa.Column("hints_used", sa.Integer, nullable=False, server_default="0"),
        sa.Column("duration_s", sa.Float),
        sa.Column("score", sa.Float),
        sa.Column("grade_json", sa.Text),
        sa.Column("grader", sa.Text),
        sa.Column("grader_model", sa.Text),
        sa.Column("grader_version", sa.Text),
        sa.Column("rubric_id", sa.Text),
        sa.Column("rubric_version", sa.Integer),
        sa.Index("ix_attempts_user_created", "user_id", "created_at"),
        sa.Index("ix_attempts_session", "session_id"),
    )
    md.create_all(conn)


@migration
def m002_local_user(conn: Connection) -> None:
    conn.execute(users.insert().values(id=LOCAL_USER, created_at=utcnow()))


@migration
def m003_follow_ups_and_review_cards(conn: Connection) -> None:
    md = sa.MetaData()
    sa.Table("attempts", md, sa.Column("id", sa.Text, primary_key=True))
    sa.Table("users", md, sa.Column("id", sa.Text, primary_key=True))
    sa.Table(
        "follow_ups",
        md,
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("attempt_id", sa.Text, sa.ForeignKey("attempts.id"), nullable=False),
        sa.Column("prompt", sa.Text, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Index("ix_follow_ups_attempt", "attempt_id"),
    )
    sa.Table(
        "review_cards",
        md,
        sa.Column("user_id", sa.Text, sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("item_id", sa.Text, primary_key=True),
        sa.Column("card_json", sa.Text, nullable=False),
        sa.Column("due", UTCDateTime, nullable=False),
    )
    md.tables["follow_ups"].create(conn)
    md.tables["review_cards"].create(conn)


def migrate(conn: Connection) -> list[str]:
    """Apply the migrations not yet recorded; returns the names applied (none the second time)."""
    migrations_table.create(conn, checkfirst=True)
    done = set(conn.scalars(sa.select(migrations_table.c.name)))
    applied = []
    for fn in MIGRATIONS:
        if fn.__name__ not in done:
            fn(conn)
            conn.execute(migrations_table.insert().values(name=fn.__name__, applied_at=utcnow()))
            applied.append(fn.__name__)
    return applied


# --- records ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttemptRecord:
    """One attempt as read back, with the mode of its session and its parsed grade."""

    id: str
    session_id: str
    user_id: str
    mode: str
    question_id: str
    kind: str
    competency: str
    difficulty: int
    round: str | None
    answer: str
    created_at: datetime
    submitted_at: datetime | None
    graded_at: datetime | None
    hints_used: int
    duration_s: float | None
    score: float | None
    grade: Grade | None
    grader: str | None
    grader_model: str | None
    grader_version: str | None
    rubric_id: str | None
    rubric_version: int | None

    def to_dict(self) -> dict[str, Any]:
        out = {k: _jsonable(v) for k, v in vars(self).items() if k != "grade"}
        out["grade"] = None if self.grade is None else self.grade.model_dump(mode="json")
        return out


@dataclass(frozen=True)
class SessionRecord:
    id: str
    user_id: str
    mode: str
    plan: str | None
    started_at: datetime
    ended_at: datetime | None
    state: dict[str, Any] | None
    attempts: list[AttemptRecord] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = {k: _jsonable(v) for k, v in vars(self).items() if k != "attempts"}
        out["attempts"] = [a.to_dict() for a in self.attempts]
        return out


@dataclass(frozen=True)
class CompetencySummary:
    """`attempts` counts every answer; mean and trend use graded ones only."""

    competency: str
    attempts: int
    graded: int
    mean_score: float | None
    trend: float | None


def _jsonable(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


# --- the store --------------------------------------------------------------------------------


class AttemptStore:
    def __init__(self, engine: Engine, *, clock: Clock = utcnow) -> None:
        self.engine = engine
        self.clock = clock

    @classmethod
    def open(cls, url: str, *, clock: Clock = utcnow) -> AttemptStore:
        """Connect, create or upgrade the schema; any failure is a StoreError."""
        try:
            engine = _engine(url)
            with engine.begin() as conn:
                migrate(conn)
        except (sa.exc.SQLAlchemyError, OSError) as exc:
            raise StoreError(
                f"cannot open attempt store {_masked(url)}: {_reason(exc, url)}"
            ) from exc
        return cls(engine, clock=clock)

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
                sessions.insert().values(
                    id=session_id, user_id=user_id, mode=mode, plan=plan, started_at=self.clock()
                )
            )
        return session_id

    def end_session(self, session_id: str) -> None:
        self._update_session(session_id, ended_at=self.clock())

    def save_session_state(self, session_id: str, state: dict[str, Any]) -> None:
        """Replace the engine's resumable state for this session (must be JSON-serialisable)."""
        self._update_session(session_id, state_json=json.dumps(state))

    def load_session(self, session_id: str) -> SessionRecord:
        """The session, its saved state and its attempts, e.g. to resume after a restart."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(sessions).where(sessions.c.id == session_id)).first()
            if row is None:
                raise NotFoundError("session", session_id, [])
            rows = conn.execute(_attempt_query().where(attempts.c.session_id == session_id))
            return _session(row._mapping, [_attempt(r._mapping) for r in rows])

    def sessions(
        self, user_id: str = LOCAL_USER, since: datetime | None = None
    ) -> list[SessionRecord]:
        """Sessions started at or after `since`, oldest first, each with its attempts."""
        query = sa.select(sessions).where(sessions.c.user_id == user_id)
        if since is not None:
            query = query.where(sessions.c.started_at >= since)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(sessions.c.started_at, sessions.c.id)).all()
        by_session: dict[str, list[AttemptRecord]] = {r.id: [] for r in rows}
        for a in self.attempts(user_id):
            if a.session_id in by_session:
                by_session[a.session_id].append(a)
        return [_session(r._mapping, by_session[r.id]) for r in rows]

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
    ) -> str:
        """Store the answer as given, before any grading; returns the attempt id.

        The text is kept exactly, except where a database cannot hold it: PostgreSQL refuses
        NUL characters in text, so they are stripped there (SQLite keeps them), and lone
        surrogates (undecodable input read with `surrogateescape`) cannot be UTF-8 encoded
        anywhere, so they become U+FFFD.
        """
        attempt_id = _new_id()
        now = self.clock()
        with self.engine.begin() as conn:
            user_id = conn.scalar(sa.select(sessions.c.user_id).where(sessions.c.id == session_id))
            if user_id is None:
                raise NotFoundError("session", session_id, [])
            conn.execute(
                attempts.insert().values(
                    id=attempt_id,
                    session_id=session_id,
                    user_id=user_id,
                    question_id=question_id,
                    kind=kind,
                    competency=competency,
                    difficulty=difficulty,
                    round=round_name,
                    answer=storable_text(answer, self.engine.dialect.name),
                    created_at=now,
                    submitted_at=now,
                    hints_used=hints_used,
                    duration_s=duration_s,
                )
            )
        return attempt_id

    def record_grade(self, attempt_id: str, grade: Grade) -> None:
        values = {
            "graded_at": self.clock(),
            "score": grade.score,
            "grade_json": grade.model_dump_json(),
            "grader": grade.grader.name,
            "grader_model": grade.grader.model,
            "grader_version": grade.grader.version,
            "rubric_id": grade.rubric_id,
            "rubric_version": grade.rubric_version,
        }
        with self.engine.begin() as conn:
            result = conn.execute(
                attempts.update().where(attempts.c.id == attempt_id).values(**values)
            )
            if result.rowcount == 0:
                raise NotFoundError("attempt", attempt_id, [])

    def attempts(
        self, user_id: str = LOCAL_USER, since: datetime | None = None
    ) -> list[AttemptRecord]:
        """The user's attempts created at or after `since`, oldest first."""
        query = _attempt_query().where(attempts.c.user_id == user_id)
        if since is not None:
            query = query.where(attempts.c.created_at >= since)
        with self.engine.connect() as conn:
            return [_attempt(r._mapping) for r in conn.execute(query)]

    def grade(self, attempt_id: str) -> Grade | None:
        """The attempt's current grade (None before it is graded)."""
        query = sa.select(attempts.c.grade_json).where(attempts.c.id == attempt_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise NotFoundError("attempt", attempt_id, [])
        return None if row.grade_json is None else Grade.model_validate_json(row.grade_json)

    def question_ids(self, user_id: str = LOCAL_USER) -> set[str]:
        """Every question the user has answered, in any session."""
        query = sa.select(attempts.c.question_id).where(attempts.c.user_id == user_id).distinct()
        with self.engine.connect() as conn:
            return set(conn.scalars(query))

    def summary(self, user_id: str = LOCAL_USER) -> dict[str, CompetencySummary]:
        """Per competency: attempts, mean graded score, and the trend of the last five."""
        grouped: dict[str, list[AttemptRecord]] = {}
        for a in self.attempts(user_id):
            grouped.setdefault(a.competency, []).append(a)
        return {name: _summarise(name, rows) for name, rows in sorted(grouped.items())}

    # follow-ups and spaced-repetition cards

    def save_follow_up(self, attempt_id: str, prompt: str, answer: str) -> str:
        """Store a follow-up answer (before it is graded) under its attempt."""
        follow_up_id = _new_id()
        with self.engine.begin() as conn:
            conn.execute(
                follow_ups.insert().values(
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
        query = (
            sa.select(follow_ups.c.prompt, follow_ups.c.answer)
            .where(follow_ups.c.attempt_id == attempt_id)
            .order_by(follow_ups.c.created_at, follow_ups.c.id)
        )
        with self.engine.connect() as conn:
            return [(r.prompt, r.answer) for r in conn.execute(query)]

    def review_cards(self, user_id: str = LOCAL_USER) -> dict[str, str]:
        """item id -> the scheduler's card as JSON, soonest due first."""
        query = (
            sa.select(review_cards.c.item_id, review_cards.c.card_json)
            .where(review_cards.c.user_id == user_id)
            .order_by(review_cards.c.due, review_cards.c.item_id)
        )
        with self.engine.connect() as conn:
            return {r.item_id: r.card_json for r in conn.execute(query)}

    def save_review_card(
        self, item_id: str, card_json: str, due: datetime, user_id: str = LOCAL_USER
    ) -> None:
        key = (review_cards.c.user_id == user_id) & (review_cards.c.item_id == item_id)
        with self.engine.begin() as conn:
            self._ensure_user(conn, user_id)
            updated = conn.execute(
                review_cards.update().where(key).values(card_json=card_json, due=due)
            )
            if updated.rowcount == 0:  # new card, unless another transaction adds it meanwhile
                insert = _insert(conn, review_cards).values(
                    user_id=user_id, item_id=item_id, card_json=card_json, due=due
                )
                conn.execute(
                    insert.on_conflict_do_update(
                        index_elements=[review_cards.c.user_id, review_cards.c.item_id],
                        set_={"card_json": insert.excluded.card_json, "due": insert.excluded.due},
                    )
                )

    # helpers

    def _ensure_user(self, conn: Connection, user_id: str) -> None:
        exists = conn.scalar(sa.select(users.c.id).where(users.c.id == user_id))
        if exists is None:
            # Another transaction may be adding the same new user right now (two tabs).
            insert = _insert(conn, users).values(id=user_id, created_at=self.clock())
            conn.execute(insert.on_conflict_do_nothing())

    def _update_session(self, session_id: str, **values: object) -> None:
        with self.engine.begin() as conn:
            result = conn.execute(
                sessions.update().where(sessions.c.id == session_id).values(**values)
            )
            if result.rowcount == 0:
                raise NotFoundError("session", session_id, [])


def storable_text(text: str, dialect: str) -> str:
    """The answer as the database can hold it (see `AttemptStore.save_answer`)."""
    if dialect == "postgresql":
        text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = LONE_SURROGATE.sub("\ufffd", text)
    return text


def _insert(conn: Connection, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that can say ON CONFLICT (both backends the store supports have it)."""
    return postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)


def _new_id() -> str:
    return uuid.uuid4().hex


def _engine(url: str) -> Engine:
    parsed = sa.make_url(url)
    backend = parsed.get_backend_name()
    connect_args: dict[str, Any] = {}
    if backend == "postgresql" and "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = 10  # fail fast instead of the OS's minutes-long wait
    if backend == "sqlite" and _is_sqlite_file(parsed.database):
        Path(str(parsed.database)).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(parsed, connect_args=connect_args)
    if backend == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _is_sqlite_file(database: str | None) -> bool:
    return bool(database) and database != ":memory:" and not str(database).startswith("file:")


def _sqlite_pragmas(dbapi_conn: Any, _record: object) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # answers "memory" for in-memory databases
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _masked(url: str) -> str:
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return mask_url(url)


def _reason(exc: BaseException, url: str) -> str:
    """The driver's first line, with the password removed in case the driver echoed it."""
    orig = getattr(exc, "orig", None) or exc
    reason = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    try:
        password = sa.make_url(url).password
    except sa.exc.ArgumentError:
        password = None
    return reason.replace(str(password), "***") if password else reason


def _attempt_query() -> sa.Select[Any]:
    return (
        sa.select(attempts, sessions.c.mode)
        .join(sessions, sessions.c.id == attempts.c.session_id)
        .order_by(attempts.c.created_at, attempts.c.id)
    )


def _attempt(row: sa.RowMapping) -> AttemptRecord:
    values = {c.name: row[c.name] for c in attempts.columns if c.name != "grade_json"}
    grade = None if row["grade_json"] is None else Grade.model_validate_json(row["grade_json"])
    return AttemptRecord(mode=row["mode"], grade=grade, **values)


def _session(row: sa.RowMapping, rows: list[AttemptRecord]) -> SessionRecord:
    state = None if row["state_json"] is None else json.loads(row["state_json"])
    return SessionRecord(
        id=row["id"],
        user_id=row["user_id"],
        mode=row["mode"],
        plan=row["plan"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        state=state,
        attempts=rows,
    )


def _summarise(name: str, rows: Sequence[AttemptRecord]) -> CompetencySummary:
    scores = [a.score for a in rows if a.score is not None]
    mean = round(sum(scores) / len(scores), 1) if scores else None
    trend = None
    if len(scores) >= 2 * TREND_WINDOW:
        last, previous = scores[-TREND_WINDOW:], scores[-2 * TREND_WINDOW : -TREND_WINDOW]
        trend = round((sum(last) - sum(previous)) / TREND_WINDOW, 1)
    return CompetencySummary(name, len(rows), len(scores), mean, trend)


# --- export -----------------------------------------------------------------------------------

CSV_LEAD = ["timestamp", "session_id", "mode", "round", "question_id", "kind", "competency"]
CSV_LEAD += ["difficulty", "score"]
CSV_TAIL = ["hints_used", "duration_s", "grader", "grader_model", "grader_version"]
CSV_TAIL += ["rubric_id", "rubric_version"]


def export_csv(rows: Iterable[AttemptRecord], out: TextIO) -> int:
    """One row per graded attempt, a `criterion:<id>` column (level 0-4) per criterion seen.

    Returns the number of rows written.
    """
    graded = [a for a in rows if a.grade is not None]
    criteria = sorted({c.id for a in graded if a.grade for c in a.grade.criteria})
    writer = csv.DictWriter(out, [*CSV_LEAD, *(f"criterion:{c}" for c in criteria), *CSV_TAIL])
    writer.writeheader()
    for a in graded:
        writer.writerow(_csv_row(a))
    return len(graded)


def _csv_row(a: AttemptRecord) -> dict[str, object]:
    row: dict[str, object] = {k: getattr(a, k) for k in [*CSV_LEAD[1:], *CSV_TAIL]}
    row["timestamp"] = a.created_at.isoformat()
    for c in a.grade.criteria if a.grade else []:
        row[f"criterion:{c.id}"] = c.level
    return row


def export_json(records: Iterable[SessionRecord], *, now: datetime | None = None) -> dict[str, Any]:
    """Every session with every attempt (answers and full grades included)."""
    return {
        "format_version": EXPORT_FORMAT_VERSION,
        "exported_at": (now or utcnow()).isoformat(),
        "sessions": [s.to_dict() for s in records],
    }
