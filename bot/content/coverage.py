"""The coverage report: does the bank cover every required topic, in the required amounts?"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.content.bank import ContentBank
from bot.content.models import KINDS, Kind
from bot.content.source import parse_yaml, read_text
from bot.errors import ContentError, ContentIssue


class CoverageSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    targets: dict[str, int]
    items: dict[Kind, dict[str, list[str]]] = Field(description="kind -> item -> question ids")
    roadmap: dict[str, dict[str, list[str]]] = Field(
        default_factory=dict,
        description="roadmap section -> topic, verbatim (bot.content.roadmap) -> question ids",
    )


def load_spec(path: Path) -> CoverageSpec:
    """The coverage spec, read under the same limits as every content file."""
    text = read_text(path, path.name)
    parsed = text if isinstance(text, ContentIssue) else parse_yaml(text, path.name)
    if isinstance(parsed, ContentIssue):
        raise ContentError([parsed])
    try:
        return CoverageSpec.model_validate(parsed.data)
    except ValidationError as error:
        raise ContentError([ContentIssue(path.name, 1, "(coverage)", str(error))]) from None


def coverage_report(bank: ContentBank, spec: CoverageSpec) -> dict[str, Any]:
    """Counts against targets, difficulty spread per kind and every item with its questions."""
    by_kind = Counter(q.kind for q in bank.questions.values())
    problems: list[str] = []
    counts: dict[str, int] = {
        "total": len(bank.questions),
        **{k: by_kind.get(k, 0) for k in KINDS},
        "labelled_questions": len(bank.labelled),
    }
    for name, target in spec.targets.items():
        if counts.get(name, 0) < target:
            problems.append(f"{name}: {counts.get(name, 0)} < {target}")
    spread = _spread(bank)
    for (kind, competency), levels in spread.items():
        missing = [d for d in range(1, 6) if d not in levels]
        if missing:
            problems.append(f"{kind} {competency}: no question at difficulty {missing}")
    items: dict[str, dict[str, list[str]]] = {}
    for kind, table in spec.items.items():
        items[kind] = {}
        for item, ids in table.items():
            good = [i for i in ids if i in bank.questions and bank.questions[i].kind == kind]
            items[kind][item] = good
            if not good:
                problems.append(f"{kind}: '{item}' has no {kind} question (listed: {ids})")
    roadmap = _roadmap(bank, spec, problems)
    return {
        "ok": not problems,
        "problems": problems,
        "counts": counts,
        "targets": spec.targets,
        "difficulty": {f"{kind} {comp}": levels for (kind, comp), levels in spread.items()},
        "items": items,
        "roadmap": roadmap,
    }


def _spread(bank: ContentBank) -> dict[tuple[str, str], dict[int, int]]:
    """(kind, competency) -> difficulty -> how many questions, for every pair the bank has."""
    counts = Counter((q.kind, q.competency, q.difficulty) for q in bank.questions.values())
    spread: dict[tuple[str, str], dict[int, int]] = {}
    for (kind, competency, difficulty), n in sorted(counts.items()):
        spread.setdefault((kind, competency), {})[difficulty] = n
    return spread


def _roadmap(
    bank: ContentBank, spec: CoverageSpec, problems: list[str]
) -> dict[str, dict[str, list[str]]]:
    """Every roadmap topic with the questions that cover it; a topic with none is a problem."""
    found: dict[str, dict[str, list[str]]] = {}
    for section, topics in spec.roadmap.items():
        found[section] = {}
        for topic, ids in topics.items():
            found[section][topic] = [i for i in ids if i in bank.questions]
            if unknown := [i for i in ids if i not in bank.questions]:
                problems.append(f"roadmap '{topic}': unknown questions {unknown}")
            if not found[section][topic]:
                problems.append(f"roadmap ({section}) '{topic}' has no question")
    return found
