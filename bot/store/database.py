"""Opening the store's database: the engine for a URL, SQLite's pragmas, and failures as
StoreErrors whose message never carries the password."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.config import mask_url
from bot.errors import StoreError
from bot.store.migrations import migrate


def open_engine(url: str) -> Engine:
    """Connect, create or upgrade the schema; any failure is a StoreError."""
    try:
        engine = _engine(url)
        with engine.begin() as conn:
            migrate(conn)
    except (sa.exc.SQLAlchemyError, OSError) as exc:
        raise StoreError(f"cannot open attempt store {_masked(url)}: {_reason(exc, url)}") from exc
    return engine


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
