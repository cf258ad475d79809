"""The child's filesystem under bubblewrap: an allow-list, and nothing else exists.

The child sees, read-only: the interpreter, its standard library (with any site-packages inside
it masked), the directories of the shared libraries the interpreter links against (as `ldd`
finds them, with the top-level symlinks such as /lib -> usr/lib recreated), the allowed packages
of `bot.sandbox.packages` at `PACKAGES_MOUNT` (on the child's sys.path), and the loader's cache;
plus a minimal /dev, its own /proc and a private /tmp (added per run, see
`bot.sandbox.bubblewrap`). No repository, no
other checkout, no home, no .git, no data directory, no .env, no /etc beyond the loader's cache.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bot.sandbox.packages import library_dirs, package_dirs

PACKAGES_MOUNT = "/opt/interview-bot/packages"  # on the child's sys.path when packages exist
LOADER_CACHE = "/etc/ld.so.cache"

# Run outside the sandbox (as the uid the code will run as) to learn what to bind.
DESCRIBE = (
    "import json, os, site, sys, sysconfig\n"
    "sites = {*site.getsitepackages(), *(sysconfig.get_path(k) for k in ('purelib', 'platlib'))}\n"
    "print(json.dumps({'version': list(sys.version_info[:2]), 'full': sys.version.split()[0],"
    " 'exe': os.path.realpath(sys.executable), 'base': sys.base_prefix, 'uid': os.getuid(),"
    " 'path': [p for p in sys.path if os.path.isdir(p)], 'site': sorted(sites)}))"
)

_LDD_LINE = re.compile(r"(?:=>\s*)?(/\S+)\s+\(0x[0-9a-f]+\)")


class AllowListError(Exception):
    """The allow-list could not be worked out (the probe records why and falls back)."""


def mounts(seen: dict[str, Any]) -> tuple[str, ...]:
    """bwrap arguments that build the child's view, from what DESCRIBE printed."""
    exe = str(seen["exe"])
    stdlib = _outermost(str(p) for p in seen["path"])
    reported = shared_libraries(exe)
    binds = _outermost([exe, *stdlib, *(os.path.realpath(os.path.dirname(p)) for p in reported)])
    args: list[str] = []
    for source in binds:
        args += ["--ro-bind", source, source]
    for link, target in _symlinks(reported, binds):
        args += ["--symlink", target, link]
    for site_dir in sorted(str(s) for s in seen["site"]):
        if os.path.isdir(site_dir) and any(_inside(site_dir, b) for b in binds):
            args += ["--tmpfs", site_dir, "--remount-ro", site_dir]
    args += ["--ro-bind-try", LOADER_CACHE, LOADER_CACHE, "--proc", "/proc", "--dev", "/dev"]
    return tuple(args)


def package_mounts() -> tuple[str, ...]:
    """bwrap arguments that bind the allowed packages at PACKAGES_MOUNT."""
    args: list[str] = []
    for name, path in sorted(package_dirs().items()):
        args += ["--ro-bind", str(path), f"{PACKAGES_MOUNT}/{name}"]
    for lib in library_dirs():  # beside the packages, where their $ORIGIN-relative RPATH looks
        args += ["--ro-bind", str(lib), f"{PACKAGES_MOUNT}/{lib.name}"]
    return tuple(args)


def shared_libraries(exe: str) -> list[str]:
    """The shared libraries the loader opens for `exe`, and the loader, as `ldd` reports them."""
    ldd = shutil.which("ldd", path="/usr/bin:/bin")
    if ldd is None:
        raise AllowListError("ldd not found, so the interpreter's shared libraries are unknown")
    try:
        done = subprocess.run(
            [ldd, exe], capture_output=True, text=True, timeout=15, env={"PATH": "/usr/bin:/bin"}
        )
    except (OSError, subprocess.SubprocessError) as error:
        raise AllowListError(f"ldd {exe} failed: {error}") from error
    if done.returncode != 0 or "not found" in done.stdout:
        raise AllowListError(f"ldd {exe} failed: {(done.stderr or done.stdout).strip()[-200:]}")
    return [m.group(1) for line in done.stdout.splitlines() if (m := _LDD_LINE.search(line))]


def _outermost(paths: Iterable[str]) -> list[str]:
    """Each path once, without those inside another one of them."""
    unique = sorted(set(paths))
    return [p for p in unique if not any(p != q and _inside(p, q) for q in unique)]


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _symlinks(paths: Iterable[str], binds: list[str]) -> list[tuple[str, str]]:
    """Symlinked directories on the way to `paths` (e.g. /lib -> usr/lib on a merged /usr),
    to recreate in the child where no bind already covers them."""
    found: dict[str, str] = {}
    for path in paths:
        current = Path("/")
        for part in Path(path).parent.parts[1:]:
            step = current / part
            if step.is_symlink() and not any(_inside(str(step), b) for b in binds):
                found[str(step)] = os.readlink(step)
            current = step.resolve()
    return sorted(found.items())
