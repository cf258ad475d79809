"""The data dir and the attempt store's files are the owner's alone: answers are personal."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import get_settings, private_dir
from bot.store import AttemptStore


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """umask 0: the modes below come from the code, not from a strict umask."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def test_the_default_store_makes_a_private_data_dir_and_database(open_umask: None) -> None:
    settings = get_settings()
    assert not settings.data_dir.exists()
    with AttemptStore.open(settings.effective_database_url) as store:
        store.start_session("practice")  # a write: SQLite makes its -wal and -shm files
        files = sorted(settings.data_dir.glob("history.sqlite3*"))
        assert [f.name for f in files] == [
            "history.sqlite3",
            "history.sqlite3-shm",
            "history.sqlite3-wal",
        ]
        assert {mode(f) for f in files} == {0o600}
    assert mode(settings.data_dir) == 0o700


def test_missing_parents_are_private_and_an_existing_folder_is_left_alone(
    tmp_path: Path, open_umask: None
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    made = private_dir(shared / "a" / "b" / "c")
    assert made.is_dir() and mode(shared) == 0o755
    assert [mode(p) for p in (shared / "a", shared / "a" / "b", made)] == [0o700] * 3
    assert private_dir(made) == made and mode(made) == 0o700


def test_an_existing_database_readable_by_others_is_tightened(
    tmp_path: Path, open_umask: None
) -> None:
    database = tmp_path / "old" / "history.sqlite3"
    url = f"sqlite:///{database}"
    with AttemptStore.open(url) as store:
        store.start_session("practice")
    for path in database.parent.iterdir():
        path.chmod(0o644)
    database.parent.chmod(0o755)
    with AttemptStore.open(url) as store:
        assert len(store.sessions()) == 1
        assert {mode(p) for p in database.parent.iterdir()} == {0o600}
    assert mode(database.parent) == 0o755, "a folder that exists is not changed"
