"""An LLM's grade, held to the answer and to the offline evidence.

Small local models obey orders hidden in an answer and invent quotes. So, after an LLM grades:
- a quote counts only if it is really in the part of the answer that earns credit (not in text
  addressed to the grader, not in a copy), whitespace and case aside;
- a criterion at level 2 or more with no such quote is capped at level 1, and a key point
  marked covered with no such quote becomes partial;
- a criterion more than LEVEL_MARGIN levels above the offline grader's level for it is capped
  there: a judgement may differ from word evidence, not contradict it wholesale.
Each cap is said in the grade's notes. Where the LLM counts a key point that the offline checks
read as said wrong (a red flag, a point said backwards, a wrong figure), the grade shows both:
the key point keeps the LLM's status and carries the offline quote and correction, and a note
names the disagreement.
"""

from __future__ import annotations

import re

from bot.content import Rubric
from bot.grading.grade import CriterionScore, Grade, KeyPointResult
from bot.grading.screen import Screened

LEVEL_MARGIN = 2
UNBACKED_LEVEL = 1
SPACES = re.compile(r"\s+")


def held_to_evidence(grade: Grade, rubric: Rubric, screened: Screened, offline: Grade) -> Grade:
    said = _plain(" ".join(screened.units[i].text for i in screened.kept))
    offline_levels = {c.id: c.level for c in offline.criteria}
    notes: list[str] = []
    criteria = [
        _criterion(c, rubric, said, offline_levels.get(c.id), notes) for c in grade.criteria
    ]
    key_points = [_key_point(k, said) for k in grade.key_points]
    unbacked = [k.id for k, new in zip(grade.key_points, key_points, strict=True) if new != k]
    if unbacked:
        notes.append(
            "Key points the LLM marked covered without a quote from the answer count as "
            f"partial: {', '.join(unbacked)}."
        )
    key_points = _both_views(key_points, offline, notes)
    return grade.rescored(
        rubric, criteria=criteria, key_points=key_points, notes=[*grade.notes, *notes]
    )


def _plain(text: str) -> str:
    return SPACES.sub(" ", text).strip().lower()


def _backed(quote: str, said: str) -> bool:
    plain = _plain(quote)
    return bool(plain) and plain in said


def _criterion(
    score: CriterionScore, rubric: Rubric, said: str, offline: int | None, notes: list[str]
) -> CriterionScore:
    spec = next(c for c in rubric.criteria if c.id == score.id)
    quotes = [q for q in score.evidence if _backed(q, said)]
    level = score.level
    if level > UNBACKED_LEVEL and not quotes:
        notes.append(
            f"{score.name}: level {level} is not backed by a quote from the answer; "
            f"capped at {UNBACKED_LEVEL}."
        )
        level = UNBACKED_LEVEL
    if offline is not None and level > offline + LEVEL_MARGIN:
        notes.append(
            f"{score.name}: the LLM gave level {level}, far above the offline evidence "
            f"(level {offline}); capped at {offline + LEVEL_MARGIN}."
        )
        level = offline + LEVEL_MARGIN
    if level == score.level and quotes == score.evidence:
        return score
    chosen = spec.nearest_level(level)
    return CriterionScore.at(
        spec,
        chosen,
        score=round(100 * chosen.score / 4, 1),
        evidence=quotes,
        feedback=score.feedback,
    )


def _both_views(
    points: list[KeyPointResult], offline: Grade, notes: list[str]
) -> list[KeyPointResult]:
    """Key points the LLM credits but the offline checks read as said wrong: both are shown."""
    wrong = {k.id: k for k in offline.key_points if k.status == "contradicted"}
    shown = []
    for point in points:
        check = wrong.get(point.id)
        if check is None or point.status in ("contradicted", "missed"):
            shown.append(point)
            continue
        notes.append(
            f"{point.id}: the LLM counts it {point.status}; the offline check reads "
            f'"{check.evidence}" as wrong ({check.correction})'
        )
        shown.append(point.model_copy(update={"correction": check.correction}))
    return shown


def _key_point(point: KeyPointResult, said: str) -> KeyPointResult:
    if point.status != "covered" or (point.evidence and _backed(point.evidence, said)):
        return point
    return point.model_copy(update={"status": "partial", "confidence": 0.5, "evidence": None})
