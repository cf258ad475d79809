"""What the candidate's code may import in the sandbox: the standard library and allowed packages.

Runs in the child, like the harness, so it is kept free of project imports: the parent sends this
file's source and the import roots with the job (`bot.sandbox.packages.import_setup`), and the
harness runs `install` before it loads the candidate's code. The roots may be a whole
site-packages directory, so a finder placed first on `sys.meta_path` refuses every other top-level
third-party module (chromadb, yaml, the app's own packages) with a message that says what is
allowed. The guard is a rule of the exercise, not the security boundary: the private filesystem
and the limits are that.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
from collections.abc import Sequence
from types import ModuleType

# Math libraries start one thread per core unless told otherwise; one keeps runs within the
# process limit and their timings comparable from machine to machine.
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def refusal(allowed: Sequence[str]) -> str:
    """The rule in words, e.g. 'only the standard library and numpy can be imported here'."""
    extra = f" and {', '.join(allowed)}" if allowed else ""
    return f"only the standard library{extra} can be imported here"


class ImportGuard(importlib.abc.MetaPathFinder):
    """Refuses any top-level module that is neither in the standard library nor allowed."""

    def __init__(self, allowed: Sequence[str]) -> None:
        self.allowed = frozenset(allowed)
        self.message = refusal(sorted(self.allowed))

    def permits(self, fullname: str) -> bool:
        top = fullname.partition(".")[0]
        return (
            top in self.allowed or top in sys.stdlib_module_names or top in sys.builtin_module_names
        )

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if self.permits(fullname):
            return None  # the ordinary finders look for it
        raise ModuleNotFoundError(f"No module named {fullname!r}: {self.message}", name=fullname)


def install(roots: Sequence[str], allowed: Sequence[str]) -> None:
    """Guard imports, then make the allowed packages importable from `roots`."""
    for name in THREAD_VARIABLES:
        os.environ[name] = "1"
    sys.meta_path.insert(0, ImportGuard(allowed))
    sys.path.extend(root for root in roots if root not in sys.path)
