"""The attempt store's current tables (SQLAlchemy Core), as the queries see them.

Migrations do not build tables from these objects: each one freezes the schema of its own step
(see `bot.store.migrations`), so a column added here cannot change what an older step creates.
Every table object ends in `_table`, so none shares a name with a store method.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

LOCAL_USER = "local"  # the one user of a single-user install; migration m002 creates it
# Where an attempt stands. SUBMITTED: saved and waiting for its grade (one left so by a crash is
# graded at the next start); GRADED; UNGRADED: grading failed, the candidate may submit it again;
# SAVED: kept without grading (skipped, or the session ended first).
SUBMITTED, GRADED, UNGRADED, SAVED = "submitted", "graded", "ungraded", "saved"
Clock = Callable[[], datetime]


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


metadata = sa.MetaData()
migrations_table = sa.Table(
    "migrations",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("applied_at", UTCDateTime, nullable=False),
)
users_table = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("password_hash", sa.Text),  # bcrypt; None: header, OAuth or the local user
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
)
sessions_table = sa.Table(
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
attempts_table = sa.Table(
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
    # A retry made after the feedback of an earlier attempt (listing the key points) was shown.
    sa.Column("seen_key_points", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("status", sa.Text, nullable=False, server_default=SAVED),
)
# An attempt's earlier versions: what it held before it was submitted again (one attempt per
# question per session is updated in place, and what it replaced is kept here).
attempt_revisions_table = sa.Table(
    "attempt_revisions",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("attempt_id", sa.Text, sa.ForeignKey("attempts.id"), nullable=False),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("submitted_at", UTCDateTime),
    sa.Column("graded_at", UTCDateTime),
    sa.Column("score", sa.Float),
    sa.Column("grade_json", sa.Text),
    sa.Column("replaced_at", UTCDateTime, nullable=False),
)
follow_ups_table = sa.Table(
    "follow_ups",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("attempt_id", sa.Text, sa.ForeignKey("attempts.id"), nullable=False),
    sa.Column("prompt", sa.Text, nullable=False),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)
review_cards_table = sa.Table(
    "review_cards",
    metadata,
    sa.Column("user_id", sa.Text, sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("item_id", sa.Text, primary_key=True),
    sa.Column("card_json", sa.Text, nullable=False),
    sa.Column("due", UTCDateTime, nullable=False),
)
