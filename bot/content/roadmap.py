"""The interview topics the roadmaps name, read from their text, so coverage follows the roadmap.

`question_bank/coverage.yaml` lists each topic verbatim under `roadmap:` with the questions that
cover it; `roadmap_topics` reads the same topics from the roadmap files, and a test checks that the
two agree, so a topic added to the roadmap shows up as missing until a question covers it.

What counts as an interview topic, from `genai-engineer-roadmap-2026.txt`: every "Must have" line
of the competency map, every line under a week's "Interview drills:" (timed mock rounds aside), the
three lists of the "Interview Track" (DSA patterns, design prompts, deep-dive questions), the papers
of the "Paper Reading Ladder", the "Build Backlog" tiers and the symptoms of "Common Failure Modes".
From `genai-mastery-roadmap.txt`: the "Core Skills & Concepts" of the five learning phases.
"""

from __future__ import annotations

import re
from pathlib import Path

ENGINEER_ROADMAP = "genai-engineer-roadmap-2026.txt"
MASTERY_ROADMAP = "genai-mastery-roadmap.txt"

MUST_HAVE = "competency must-haves"
DRILLS = "interview drills"
DSA_PATTERNS = "interview track: DSA patterns"
DESIGN_PROMPTS = "interview track: design prompts"
DEEP_DIVES = "interview track: deep-dive questions"
PAPERS = "paper reading ladder"
BACKLOG = "build backlog"
FAILURE_MODES = "common failure modes"
CORE_SKILLS = "mastery core skills"
SECTIONS = (
    MUST_HAVE, DRILLS, DSA_PATTERNS, DESIGN_PROMPTS, DEEP_DIVES, PAPERS, BACKLOG, FAILURE_MODES,
    CORE_SKILLS,
)

_ROUNDS = re.compile(r"^\d+ .*(rounds|interviews)\b", re.IGNORECASE)
_NOT_PAPER = re.compile(r"^(Extract:|\d+ )")
_BULLET = re.compile(r"^- (.+)$")
_TABLE_ROW = re.compile(r"^\| ([^|]+?) \| ([^|]+?) \|")
_SKILL = re.compile(r"^- \*\*(.+?):\*\*")
_COMPETENCY = re.compile(r"^C(\d)\. (.+)$")


def roadmap_topics(folder: Path) -> dict[str, list[str]]:
    """Section -> the topics it names, in roadmap order, without repeats."""
    engineer = (folder / ENGINEER_ROADMAP).read_text(encoding="utf-8").splitlines()
    mastery = (folder / MASTERY_ROADMAP).read_text(encoding="utf-8").splitlines()
    track = _after(engineer, "Interview Track")
    topics = {
        MUST_HAVE: _must_haves(engineer),
        DRILLS: [t for t in _blocks(engineer, "Interview drills:") if not _ROUNDS.match(t)],
        DSA_PATTERNS: _table(track),
        DESIGN_PROMPTS: _bullets(_between(track, "B)", "C)")),
        DEEP_DIVES: _bullets(_between(track, "C)", "KPI Dashboard")),
        PAPERS: [
            t
            for t in _list(engineer, "Paper Reading Ladder (Priority Order)", "For each")
            if not _NOT_PAPER.match(t)
        ],
        BACKLOG: _list(engineer, "Build Backlog (After Week 16)", "Common"),
        FAILURE_MODES: [
            t.removeprefix("Symptom: ")
            for t in _list(engineer, "Common Failure Modes and Fixes", "Final")
            if t.startswith("Symptom:") and "interview" not in t
        ],
        CORE_SKILLS: _core_skills(mastery),
    }
    return {section: list(dict.fromkeys(items)) for section, items in topics.items()}


def _must_haves(lines: list[str]) -> list[str]:
    """'C1 Python and DSA for AI Systems: Hash maps, heaps...' for each must-have line."""
    found: list[str] = []
    competency = ""
    for line in _between(_after(lines, "Competency Map"), "", "Phase Gates"):
        if match := _COMPETENCY.match(line):
            competency = f"C{match[1]} {match[2]}"
        elif (bullet := _BULLET.match(line)) and competency:
            found.append(f"{competency}: {bullet[1].rstrip('.')}")
    return found


def _blocks(lines: list[str], heading: str) -> list[str]:
    """The bullets under every line equal to `heading`, up to the next non-bullet line."""
    found: list[str] = []
    inside = False
    for line in lines:
        if line.strip() == heading:
            inside = True
        elif inside and (bullet := _BULLET.match(line)):
            found.append(bullet[1].rstrip("."))
        else:
            inside = False
    return found


def _table(lines: list[str]) -> list[str]:
    rows = [_TABLE_ROW.match(line) for line in _between(lines, "A)", "B)")]
    return [f"{m[1]}: {m[2]}" for m in rows if m and m[1] not in {"DSA Pattern", "---"}]


def _bullets(lines: list[str]) -> list[str]:
    return [m[1].rstrip(".?") for line in lines if (m := _BULLET.match(line))]


def _core_skills(lines: list[str]) -> list[str]:
    found: list[str] = []
    phase = 0
    inside = False
    for line in lines:
        if line.startswith("## Phase "):
            phase += 1
        elif line.strip() == "### Core Skills & Concepts":
            inside = phase <= 5
        elif line.startswith("#"):
            inside = False
        elif inside and (match := _SKILL.match(line)):
            found.append(f"Phase {phase} {match[1]}")
    return found


def _list(lines: list[str], heading: str, end: str) -> list[str]:
    """The bullets after the line `heading`, up to the first line starting with `end`."""
    return _bullets(_between(_after(lines, heading), "", end))


def _after(lines: list[str], heading: str) -> list[str]:
    for i, line in enumerate(lines):
        if line.strip() == heading:
            return lines[i + 1 :]
    raise ValueError(f"the roadmap has no '{heading}' section")


def _between(lines: list[str], start: str, end: str | None) -> list[str]:
    """Lines after the first starting with `start` ('' = from the top) up to one starting `end`."""
    begin = -1 if not start else next((i for i, x in enumerate(lines) if x.startswith(start)), None)
    if begin is None:
        raise ValueError(f"the roadmap has no line starting '{start}'")
    rest = lines[begin + 1 :]
    stop = next((i for i, line in enumerate(rest) if end and line.startswith(end)), len(rest))
    return rest[:stop]
