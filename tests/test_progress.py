"""The progress page: readiness against a level's bar, the map, a capped, ordered review queue."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import PROJECT_ROOT
from bot.content import ContentBank, load_bank
from bot.interview.progress import MIN_EVIDENCE, REVIEW_CAP, progress, progress_markdown
from bot.interview.spacing import DueItem
from tests.test_cli import run

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def bank() -> ContentBank:
    return load_bank(PROJECT_ROOT)


@dataclass(frozen=True)
class Row:
    question_id: str
    competency: str
    difficulty: int
    score: float | None
    created_at: datetime


def rows(bank: ContentBank, competency: str, scores: list[float | None]) -> list[Row]:
    pool = sorted(q.id for q in bank.questions.values() if q.competency == competency)
    return [
        Row(qid, competency, bank.question(qid).difficulty, s, NOW - timedelta(days=10 - i))
        for i, (qid, s) in enumerate(zip(pool, scores, strict=False))
    ]


def test_readiness_uses_each_questions_latest_score_against_the_level_bar(
    bank: ContentBank,
) -> None:
    c3 = rows(bank, "C3", [80, 78, 76])
    retry = Row(c3[0].question_id, "C3", c3[0].difficulty, 40, NOW)  # the latest counts
    mid = {r.competency: r for r in progress(bank, [*c3, retry], [], NOW, "mid").readiness}
    assert mid["C3"].answered == 3 and mid["C3"].score == round((40 + 78 + 76) / 3, 1)
    assert mid["C3"].status == "close"  # 64.7 against a bar of 70
    junior = {r.competency: r for r in progress(bank, c3, [], NOW, "junior").readiness}
    staff = {r.competency: r for r in progress(bank, c3, [], NOW, "staff").readiness}
    assert junior["C3"].status == "ready" and staff["C3"].status == "close"
    few = {r.competency: r for r in progress(bank, c3[: MIN_EVIDENCE - 1], [], NOW).readiness}
    assert few["C3"].status == "too few answers" and few["C2"].status == "no evidence"


def test_the_map_counts_attempts_and_best_scores_by_difficulty(bank: ContentBank) -> None:
    c1 = rows(bank, "C1", [50, 70, None])
    grid = progress(bank, c1, [], NOW).grid["C1"]
    assert sum(cell.attempts for cell in grid.values()) == 3
    assert max(cell.best or 0 for cell in grid.values()) == 70


def test_the_review_queue_is_capped_and_ordered_by_what_matters(bank: ContentBank) -> None:
    due = []
    for q in list(bank.questions.values())[:30]:
        kp = max(q.key_points, key=lambda k: k.weight)
        due.append(DueItem(f"{q.id}#{kp.id}", q.id, kp.id, NOW - timedelta(days=1)))
    light = min(bank.questions.values(), key=lambda q: min(k.weight for k in q.key_points))
    small = min(light.key_points, key=lambda k: k.weight)
    due.append(DueItem("x", light.id, small.id, NOW))
    p = progress(bank, [], due, NOW)
    assert len(p.review) == REVIEW_CAP and p.review_waiting == len(due) - REVIEW_CAP
    assert [e.priority for e in p.review] == sorted((e.priority for e in p.review), reverse=True)
    assert small.text not in [e.key_point for e in p.review]  # a light point waits
    text = progress_markdown(p)
    assert f"{p.review_waiting} more wait" in text and "## Readiness" in text


def test_next_drill_names_the_competency_furthest_from_its_bar(bank: ContentBank) -> None:
    attempts = rows(bank, "C2", [40, 45, 50]) + rows(bank, "C4", [75, 80, 85])
    p = progress(bank, attempts, [], NOW)
    assert p.next_drill.startswith("Drill C2")
    assert "passes at 60" in p.rules and "80" in p.rules


def test_the_cli_prints_progress(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "progress", "--level", "senior", "--json")
    data = json.loads(out)
    assert code == 0 and data["level"] == "senior"
    assert {r["competency"] for r in data["readiness"]} >= {"C1", "BH"}
    code, _, err = run(capsys, "progress", "--level", "principal")
    assert code != 0 and "--level must be one of" in err
