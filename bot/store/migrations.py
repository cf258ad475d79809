"""The store's schema history: a plain list of migration functions, each applied once, in order,
and recorded by name in the `migrations` table.

Each migration freezes its own schema: it declares the tables and columns of its step right here,
with plain SQLAlchemy types and literal values, and never uses the current tables in
`bot.store.schema`. A later change there (a new column, a renamed constant) therefore cannot
change what an old step creates on a database that is being upgraded. Names are recorded, so a
migration is never renamed; a change to the schema is a new function at the end of the list.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.store.schema import migrations_table, utcnow

Migration = Callable[[Connection], None]
MIGRATIONS: list[Migration] = []
# PostgreSQL advisory lock key: app instances starting together on one database migrate in turn.
MIGRATION_LOCK = 0x1B5C4E11


def migration(fn: Migration) -> Migration:
    """Register `fn` as the next step of the schema."""
    MIGRATIONS.append(fn)
    return fn


def migrate(conn: Connection) -> list[str]:
    """Apply the migrations not yet recorded; returns the names applied (none the second time).

    On PostgreSQL the transaction first takes an advisory lock, so an instance that starts while
    another is migrating waits for it and then finds nothing left to do (instead of failing on a
    table the other just created). SQLite's file lock already serialises writers."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    migrations_table.create(conn, checkfirst=True)
    done = set(conn.scalars(sa.select(migrations_table.c.name)))
    applied = []
    for fn in MIGRATIONS:
        if fn.__name__ not in done:
            fn(conn)
            conn.execute(migrations_table.insert().values(name=fn.__name__, applied_at=utcnow()))
            applied.append(fn.__name__)
    return applied


def _naive_utc_now() -> datetime:
    """Timestamps are stored as naive UTC (what `UTCDateTime` does for the queries)."""
    return datetime.now(UTC).replace(tzinfo=None)


@migration
def m001_initial_schema(conn: Connection) -> None:
    md = sa.MetaData()
    sa.Table(
        "users",
        md,
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    sa.Table(
        "sessions",
        md,
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Text, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("mode", sa.Text, nullable=False),
        sa.Column("plan", sa.Text),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("ended_at", sa.DateTime),
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
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("submitted_at", sa.DateTime),
        sa.Column("graded_at", sa.DateTime),
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
    users = sa.table("users", sa.column("id", sa.Text), sa.column("created_at", sa.DateTime))
    # "local" is LOCAL_USER as it was when this step was written; frozen like the schema.
    conn.execute(users.insert().values(id="local", created_at=_naive_utc_now()))


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
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Index("ix_follow_ups_attempt", "attempt_id"),
    )
    sa.Table(
        "review_cards",
        md,
        sa.Column("user_id", sa.Text, sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("item_id", sa.Text, primary_key=True),
        sa.Column("card_json", sa.Text, nullable=False),
        sa.Column("due", sa.DateTime, nullable=False),
    )
    md.tables["follow_ups"].create(conn)
    md.tables["review_cards"].create(conn)


@migration
def m004_attempts_seen_key_points(conn: Connection) -> None:
    """Mark retries made after the key points were shown; every existing attempt gets false."""
    md = sa.MetaData()
    attempts = sa.Table(
        "attempts",
        md,
        sa.Column("user_id", sa.Text),
        sa.Column("question_id", sa.Text),
        sa.Column("seen_key_points", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    column = sa.schema.CreateColumn(attempts.c.seen_key_points).compile(dialect=conn.dialect)
    conn.execute(sa.text(f"ALTER TABLE attempts ADD COLUMN {column}"))
    # The store looks up earlier attempts of the same user and question on every save.
    sa.Index("ix_attempts_user_question", attempts.c.user_id, attempts.c.question_id).create(conn)


@migration
def m005_attempt_status_and_revisions(conn: Connection) -> None:
    """Where each attempt stands (graded ones "graded", the others "saved": an old database
    cannot tell a crash from a skip), and the table of the versions an attempt replaced."""
    md = sa.MetaData()
    attempts = sa.Table(
        "attempts",
        md,
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("session_id", sa.Text),
        sa.Column("question_id", sa.Text),
        sa.Column("grade_json", sa.Text),
        sa.Column("status", sa.Text, nullable=False, server_default="saved"),
    )
    column = sa.schema.CreateColumn(attempts.c.status).compile(dialect=conn.dialect)
    conn.execute(sa.text(f"ALTER TABLE attempts ADD COLUMN {column}"))
    graded = attempts.c.grade_json.is_not(None)
    conn.execute(attempts.update().where(graded).values(status="graded"))
    # a submission looks up its session's attempt of the question; the restart, the waiting ones
    sa.Index("ix_attempts_session_question", attempts.c.session_id, attempts.c.question_id).create(
        conn
    )
    sa.Index("ix_attempts_status", attempts.c.status).create(conn)
    sa.Table(
        "attempt_revisions",
        md,
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("attempt_id", sa.Text, sa.ForeignKey("attempts.id"), nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("submitted_at", sa.DateTime),
        sa.Column("graded_at", sa.DateTime),
        sa.Column("score", sa.Float),
        sa.Column("grade_json", sa.Text),
        sa.Column("replaced_at", sa.DateTime, nullable=False),
        sa.Index("ix_attempt_revisions_attempt", "attempt_id"),
    )
    md.tables["attempt_revisions"].create(conn)


@migration
def m006_user_accounts(conn: Connection) -> None:
    """Accounts: a password hash (none for header and OAuth users, and the local user) and a
    disabled flag, every existing user enabled; and the chat (browser tab) that drives a session,
    so that a session resumed in a second tab is not driven by both."""
    md = sa.MetaData()
    users = sa.Table(
        "users",
        md,
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("password_hash", sa.Text),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    for name in ("password_hash", "disabled"):
        column = sa.schema.CreateColumn(users.c[name]).compile(dialect=conn.dialect)
        conn.execute(sa.text(f"ALTER TABLE users ADD COLUMN {column}"))
    sessions = sa.Table("sessions", md, sa.Column("user_id", sa.Text), sa.Column("holder", sa.Text))
    column = sa.schema.CreateColumn(sessions.c.holder).compile(dialect=conn.dialect)
    conn.execute(sa.text(f"ALTER TABLE sessions ADD COLUMN {column}"))
    sa.Index("ix_sessions_user", sessions.c.user_id).create(conn)  # a user's sessions, by user


@migration
def m007_user_settings(conn: Connection) -> None:
    """The settings each user chose last (mode, competency, plan, level...), as one JSON object,
    so a new chat, a reload or a restart starts from them."""
    md = sa.MetaData()
    sa.Table("users", md, sa.Column("id", sa.Text, primary_key=True))
    sa.Table(
        "user_settings",
        md,
        sa.Column("user_id", sa.Text, sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("settings_json", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    md.tables["user_settings"].create(conn)
