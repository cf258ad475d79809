"""Issue #21's figures for the code runner, as root and as nobody (setpriv): how many places
holding the app's secret the code could read, whether it could kill the app, and how many
processes it left after the run. Reuses the hostile submissions of tests/test_sandbox_attacks.py.
`python bench/sandbox_attacks.py`, as root (it switches to nobody for the unprivileged half)."""

from __future__ import annotations

import json
import shutil
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import test_sandbox_attacks as attacks  # noqa: E402

SECRETS = (
    "    for pid in [os.getppid()] + [p for p in os.listdir('/proc') if p.isdigit()]:\n"
    "        try:\n"
    "            if SECRET.encode() in open(f'/proc/{pid}/environ', 'rb').read():\n"
    "                found.append(pid)\n"
    "        except OSError:\n"
    "            pass\n"
)


def figures(mode: str, project: attacks.Project) -> dict[str, object]:
    paths = [str(p) for p in project.places]
    body = SECRETS + attacks.found_secrets(paths) + "    found = [str(len(found))]\n"
    readable = int(attacks.returned(mode, project, body)[0])
    killed = {}
    for target in ("os.getppid()", "-1"):
        code = f"import os\n{attacks.PAIR}    os.kill({target}, 9)\n    return [0, 1]\n"
        killed[target] = attacks.attack(mode, project, code)[0] != 0
    name = "ib" + uuid.uuid4().hex[:13]
    attacks.returned(mode, project, attacks.sleeper(name))
    report = attacks.attack(mode, project, attacks.PAIR + "    return [0, 1]\n")[1] or {}
    return {
        "places_with_the_secret_read": readable,
        "app_killed": killed,
        "processes_left": len(attacks.alive_named(name)),
        "bubblewrap": report.get("protections", {}).get("bubblewrap", {}).get("active", False),
    }


def main() -> None:
    made = attacks.project.__wrapped__()  # type: ignore[attr-defined]
    project = next(made)
    try:
        print(json.dumps({mode: figures(mode, project) for mode in attacks.MODES}, indent=2))
    finally:
        shutil.rmtree(project.root)


if __name__ == "__main__":
    main()
