"""Derived data kept on disk between processes, keyed by everything it is derived from.

A cold process used to redo the same work every time: parse and validate the whole bank (about
1 s), embed the topic of every question (1,146 texts, about 10 s on 2 cores) and index the kb for
copy detection (about 1 s). Each of those is a pure function of the content files, the code that
builds it and the embedding model, so `DiskCache.get` keeps its result in the data directory
under a key made of exactly those, and any change to one of them builds it again.

The files are pickles written by this program into its own data directory (created 0700, files
0600); a file that cannot be read back is rebuilt, never trusted.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import TypeVar, cast

log = logging.getLogger(__name__)
T = TypeVar("T")
CONTENT_DIRS = ("question_bank", "rubrics", "kb", "plans", "labelled")


def content_hash(root: Path, *extra: Path) -> str:
    """A hash of every content file under `root` and of the `extra` folders (names and bytes):
    any edit changes it."""
    digest = hashlib.sha256()
    for folder in [root / sub for sub in CONTENT_DIRS] + list(extra):
        if not folder.is_dir():
            continue
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(folder.parent)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def code_hash(*modules: ModuleType | str) -> str:
    """A hash of the source of the modules that build a cached value: new code, new key."""
    digest = hashlib.sha256(sys.version.encode())
    for module in modules:
        loaded = sys.modules[module] if isinstance(module, str) else module
        if loaded.__file__:
            digest.update(Path(loaded.__file__).read_bytes())
    return digest.hexdigest()


def key_of(parts: Iterable[str]) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]


def derived() -> DiskCache:
    """The cache of derived data in the configured data directory."""
    from bot.config import get_settings

    return DiskCache(get_settings().data_dir / "cache")


class DiskCache:
    """Values by (name, key) in one folder; one file per name, replaced when the key changes."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def get(self, name: str, key: str, build: Callable[[], T]) -> T:
        path = self.folder / f"{name}-{key}.pkl"
        found = self._read(path)
        if found is not None:
            return cast(T, found)
        value = build()
        self._write(path, name, value)
        return value

    @staticmethod
    def _read(path: Path) -> object | None:
        try:
            with path.open("rb") as f:
                found: object = pickle.load(f)  # noqa: S301 - our own file, our 0700 directory
                return found
        except FileNotFoundError:
            return None
        except Exception as error:  # noqa: BLE001 - a damaged or stale file is rebuilt
            log.warning("cache file %s unreadable (%s): rebuilding it", path.name, error)
            return None

    def _write(self, path: Path, name: str, value: object) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{name}-")
            with os.fdopen(fd, "wb") as f:  # mkstemp creates it 0600
                pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)  # processes starting together never read half a file
            for old in self.folder.glob(f"{name}-*.pkl"):
                if old != path:
                    old.unlink(missing_ok=True)
        except OSError as error:  # a read-only data dir still works, just without the cache
            log.warning("could not cache %s (%s)", name, error)
