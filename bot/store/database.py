"""Opening the store's database: the engine for a URL, SQLite's pragmas, and failures as
StoreErrors whose message never carries the password."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.config import PRIVATE_FILE_MODE, mask_url, private_dir
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
        _private_file(Path(str(parsed.database)).expanduser())
    engine = sa.create_engine(parsed, connect_args=connect_args)
    if backend == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _private_file(database: Path) -> None:
    """The database and SQLite's files beside it readable by the owner only: created so when
    missing (SQLite gives its -wal and -shm files the database's mode), tightened when ours."""
    private_dir(database.parent)
    try:
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    except FileExistsError:
        pass
    for path in (database, *(database.with_name(database.name + s) for s in ("-wal", "-shm"))):
        with contextlib.suppress(FileNotFoundError):
            info = path.stat()
            if info.st_uid == os.getuid() and info.st_mode & 0o077:
                path.chmod(PRIVATE_FILE_MODE)


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
