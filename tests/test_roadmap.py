"""Coverage follows the roadmaps: every interview topic they name is listed and has a question."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT
from bot.content.bank import COVERAGE_FILE
from bot.content.coverage import load_spec
from bot.content.roadmap import ENGINEER_ROADMAP, MUST_HAVE, SECTIONS, roadmap_topics
from tests.test_cli import run

# The roadmaps live beside the project (../shared/roadmap), as in CI; not in the repository.
ROADMAPS = PROJECT_ROOT.parent / "shared" / "roadmap"


def test_coverage_lists_every_roadmap_topic_verbatim() -> None:
    assert ROADMAPS.is_dir(), f"the roadmaps are expected beside the project, in {ROADMAPS}"
    topics = roadmap_topics(ROADMAPS)
    listed = load_spec(PROJECT_ROOT / COVERAGE_FILE).roadmap
    assert list(topics) == list(SECTIONS)
    for section, names in topics.items():
        assert list(listed.get(section, {})) == names, section
    assert sum(len(names) for names in topics.values()) >= 100


def test_a_topic_added_to_the_roadmap_is_read_and_reported_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mini_root: Path
) -> None:
    folder = tmp_path / "roadmap"
    shutil.copytree(ROADMAPS, folder)
    path = folder / ENGINEER_ROADMAP
    text = path.read_text(encoding="utf-8")
    marker = "C2. ML and DL Fundamentals\nMust have:\n"
    assert marker in text
    path.write_text(text.replace(marker, marker + "- Kernel tricks for interviews.\n"))
    topics = roadmap_topics(folder)
    assert "C2 ML and DL Fundamentals: Kernel tricks for interviews" in topics[MUST_HAVE]
    assert not any("timed" in t for t in topics["interview drills"])  # round counts: not topics

    spec = {"targets": {}, "items": {}, "roadmap": {MUST_HAVE: {t: [] for t in topics[MUST_HAVE]}}}
    (mini_root / COVERAGE_FILE).write_text(json.dumps(spec))
    code, out, _ = run(capsys, "coverage", "--root", str(mini_root), "--json")
    report = json.loads(out)
    assert code == 1
    assert any("Kernel tricks for interviews' has no question" in p for p in report["problems"])


def test_difficulty_spread_is_checked_per_competency(
    capsys: pytest.CaptureFixture[str], mini_root: Path
) -> None:
    (mini_root / COVERAGE_FILE).write_text("targets: {}\nitems: {}\n")
    _, out, _ = run(capsys, "coverage", "--root", str(mini_root), "--json")
    report = json.loads(out)
    assert report["difficulty"], report
    assert all(" " in key for key in report["difficulty"])  # "kind competency"
    assert any(p.split(":")[0].count(" ") == 1 for p in report["problems"] if "difficulty" in p)
