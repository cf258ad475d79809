"""The store's users: accounts (a password hash for password login, a disabled flag), the user
first seen through a proxy's header or an OAuth provider, and removing a user with every row
that is theirs.

A `UserRecord` never carries the password hash: only `password_hash` reads it, for sign-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from bot.errors import BotError, NotFoundError
from bot.store.schema import (
    Clock,
    attempt_revisions_table,
    attempts_table,
    follow_ups_table,
    review_cards_table,
    sessions_table,
    users_table,
)


@dataclass(frozen=True)
class UserRecord:
    id: str
    created_at: datetime
    disabled: bool
    has_password: bool


@dataclass(frozen=True)
class Purged:
    """What removing a user took away, row counts by table."""

    rows: dict[str, int]


class Users:
    """The user half of AttemptStore (it supplies the engine and the clock)."""

    engine: Engine
    clock: Clock

    def add_user(self, user_id: str, *, password_hash: str | None = None) -> UserRecord:
        """A new user; a BotError when the name is taken."""
        with self.engine.begin() as conn:
            if _row(conn, user_id) is not None:
                raise BotError(f"user '{user_id}' exists already")
            conn.execute(
                users_table.insert().values(
                    id=user_id, created_at=self.clock(), password_hash=password_hash
                )
            )
        return self.user(user_id)

    def admit_user(self, user_id: str) -> UserRecord:
        """The user, created on first sight (header and OAuth login): the caller refuses a
        disabled one."""
        with self.engine.begin() as conn:
            ensure_user(conn, user_id, self.clock())
        return self.user(user_id)

    def user(self, user_id: str) -> UserRecord:
        with self.engine.connect() as conn:
            row = _row(conn, user_id)
        if row is None:
            raise NotFoundError("user", user_id, [])
        return _record(row)

    def find_user(self, user_id: str) -> UserRecord | None:
        with self.engine.connect() as conn:
            row = _row(conn, user_id)
        return None if row is None else _record(row)

    def users(self) -> list[UserRecord]:
        u = users_table
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(u).order_by(u.c.created_at, u.c.id)).mappings().all()
        return [_record(r) for r in rows]

    def password_hash(self, user_id: str) -> str | None:
        """The stored hash, for checking a password at sign-in (None: no such user, no
        password, or disabled)."""
        u = users_table
        query = sa.select(u.c.password_hash).where(u.c.id == user_id, u.c.disabled.is_(False))
        with self.engine.connect() as conn:
            found = conn.scalar(query)
        return None if found is None else str(found)

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        self._update_user(user_id, password_hash=password_hash)

    def set_disabled(self, user_id: str, disabled: bool) -> None:
        self._update_user(user_id, disabled=disabled)

    def delete_user(self, user_id: str, *, purge: bool = False) -> Purged:
        """Remove the user. Without `purge` only a user with no rows of their own can go; with
        it, every row of theirs goes too: follow-ups, revisions, attempts, sessions, cards."""
        with self.engine.begin() as conn:
            if _row(conn, user_id) is None:
                raise NotFoundError("user", user_id, [])
            counts = _owned_rows(conn, user_id)
            if any(counts.values()) and not purge:
                held = ", ".join(f"{n} {table}" for table, n in counts.items() if n)
                raise BotError(f"user '{user_id}' has {held}: delete with --purge to remove them")
            removed = _remove_rows(conn, user_id)
            u = users_table
            removed["users"] = conn.execute(u.delete().where(u.c.id == user_id)).rowcount
        return Purged(removed)

    def _update_user(self, user_id: str, **values: object) -> None:
        u = users_table
        with self.engine.begin() as conn:
            if conn.execute(u.update().where(u.c.id == user_id).values(**values)).rowcount == 0:
                raise NotFoundError("user", user_id, [])


def ensure_user(conn: Connection, user_id: str, now: datetime) -> None:
    """The user's row, added when missing (another transaction may be adding it right now)."""
    u = users_table
    if conn.scalar(sa.select(u.c.id).where(u.c.id == user_id)) is None:
        insert = conflict_insert(conn, u).values(id=user_id, created_at=now)
        conn.execute(insert.on_conflict_do_nothing())


def conflict_insert(conn: Connection, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that can say ON CONFLICT (both backends the store supports have it)."""
    return postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)


def _row(conn: Connection, user_id: str) -> sa.RowMapping | None:
    u = users_table
    return conn.execute(sa.select(u).where(u.c.id == user_id)).mappings().first()


def _record(row: sa.RowMapping) -> UserRecord:
    return UserRecord(
        id=row["id"],
        created_at=row["created_at"],
        disabled=bool(row["disabled"]),
        has_password=row["password_hash"] is not None,
    )


def _theirs() -> dict[str, sa.Table]:
    return {
        "follow_ups": follow_ups_table,
        "attempt_revisions": attempt_revisions_table,
        "attempts": attempts_table,
        "sessions": sessions_table,
        "review_cards": review_cards_table,
    }


def _where(table: sa.Table, user_id: str) -> sa.ColumnElement[bool]:
    if "user_id" in table.c:
        return table.c.user_id == user_id
    a = attempts_table  # follow-ups and revisions belong to the user through their attempt
    return table.c.attempt_id.in_(sa.select(a.c.id).where(a.c.user_id == user_id))


def _owned_rows(conn: Connection, user_id: str) -> dict[str, int]:
    return {name: int(conn.scalar(_count(t, user_id)) or 0) for name, t in _theirs().items()}


def _count(table: sa.Table, user_id: str) -> sa.Select[Any]:
    return sa.select(sa.func.count()).select_from(table).where(_where(table, user_id))


def _remove_rows(conn: Connection, user_id: str) -> dict[str, int]:
    """Children first: the foreign keys hold until their rows are gone."""
    return {
        name: conn.execute(t.delete().where(_where(t, user_id))).rowcount
        for name, t in _theirs().items()
    }
