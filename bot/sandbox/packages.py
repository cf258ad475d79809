"""The third-party packages a candidate's code may import inside the sandbox, and where they live.

One list for the whole sandbox: the harness puts these directories on the child's `sys.path`, the
import guard (`bot.sandbox.imports`, run in the child) refuses every other third-party module, and
the allow-list filesystem binds them read-only (nothing else of site-packages is visible).
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

ALLOWED_PACKAGES: tuple[str, ...] = ("numpy",)


@cache
def package_dirs() -> dict[str, Path]:
    """Each allowed package that is installed -> its package directory (e.g. .../numpy)."""
    found: dict[str, Path] = {}
    for name in ALLOWED_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            found[name] = Path(next(iter(spec.submodule_search_locations))).resolve()
    return found


def search_roots() -> list[Path]:
    """The directories to add to the child's sys.path so that the allowed packages import."""
    return sorted({path.parent for path in package_dirs().values()})


def library_dirs() -> list[Path]:
    """Shared libraries the allowed packages load at import (pip wheels vendor them beside it)."""
    dirs: set[Path] = set()
    for name, path in package_dirs().items():
        vendored = path.parent / f"{name}.libs"
        if vendored.is_dir():
            dirs.add(vendored.resolve())
    return sorted(dirs)


GUARD = Path(__file__).resolve().with_name("imports.py")


@cache
def _guard_source() -> str:
    return GUARD.read_text(encoding="utf-8")


def import_setup() -> dict[str, object]:
    """What the job tells the harness about imports: the guard's source, the roots, the names."""
    return {
        "guard": _guard_source(),
        "roots": [str(root) for root in search_roots()],
        "allowed": list(ALLOWED_PACKAGES),
    }
