"""The time complexity an answer claims, against the growth its code showed in the scaling check.

A claim is the first O(...) in the answer that is not about space or memory; its degree is the
power of the input size it grows with, logarithms aside (O(n log n) is degree 1, O(nk) and
O(n^2) degree 2), since timing tells powers apart but not logarithmic factors. When the code was
measured (`RunReport.growth`), the grade says what was claimed and what was measured; a claim
below the measured growth is a wrong bound, and the rubric's complexity criterion drops to the
level for one ("A wrong bound, or a brute force presented as optimal").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.content import Criterion, Rubric
from bot.grading.grade import CriterionScore, Grade
from bot.sandbox.report import Growth, degree_label

CLAIM = re.compile(r"\bO\s*\(\s*((?:[^()]|\([^()]*\))+?)\s*\)")
NOT_TIME = re.compile(r"space|memory|extra|stack|storage|auxiliary", re.IGNORECASE)
NEAR = 30  # characters either side of a claim that say what it is about
WRONG_BOUND_LEVEL = 1
CRITERION = "complexity"


@dataclass(frozen=True)
class Claim:
    text: str  # as written, e.g. "O(n log n)"
    degree: float


def claimed_time(answer: str) -> Claim | None:
    """The first time-complexity claim in the answer, or None when it makes none."""
    for match in CLAIM.finditer(answer):
        before = answer[max(0, match.start() - NEAR) : match.start()]
        after = answer[match.end() : match.end() + NEAR]
        nearest = re.split(r"[,;.]| and |O\s*\(", after, maxsplit=1)[0]
        behind = re.split(r"[,;.]| and ", before)[-1]
        if NOT_TIME.search(nearest) or NOT_TIME.search(behind):
            continue
        degree = degree_of(match.group(1))
        if degree is not None:
            return Claim(f"O({match.group(1)})", degree)
    return None


def degree_of(expression: str) -> float | None:
    """The power of the size a big-O expression grows with: the largest of its terms."""
    text = expression.replace("²", "^2").replace("³", "^3").replace("·", "*").replace("×", "*")
    text = re.sub(r"\blog\w*\s*(\([^()]*\)|\s*[A-Za-z]\w*)?", "", text)  # log factors
    text = re.sub(r"\bsqrt\s*\(\s*[A-Za-z]\w*\s*\)", "s^0.5", text)
    degrees = []
    for term in re.split(r"\+|-", text):
        if not term.strip():
            continue
        degree = 0.0
        for name, power in re.findall(r"([A-Za-z_]\w*)\s*(?:\^\s*(\d+(?:\.\d+)?))?", term):
            letters = len(name) if len(name) <= 2 and name.isalpha() else 1  # "nk" is n * k
            degree += letters * (float(power) if power else 1.0)
        if not re.fullmatch(r"[\w\s^.*/()]*", term):
            return None
        degrees.append(degree)
    if not degrees:
        return 0.0 if re.search(r"log", expression) else None
    return max(degrees)


def growth_words(growth: Growth) -> str:
    label = {"1": "constant or log n"}.get(growth.label, growth.label)
    return f"~{label} per {growth.unit}"


def compare(answer: str, growth: Growth) -> tuple[str, bool]:
    """The sentence comparing claim and measurement, and whether the claim is below it."""
    claim = claimed_time(answer)
    measured = growth_words(growth)
    if claim is None:
        return f"Measured growth of the code: {measured}; the answer states no time bound.", False
    said = degree_label(claim.degree)
    if said == growth.label:
        return f"You said {claim.text}; measured growth is {measured}, which agrees.", False
    below = claim.degree < round(growth.candidate)
    return f"You said {claim.text}; measured growth is {measured}.", below


def apply_measured_growth(grade: Grade, rubric: Rubric, answer: str, growth: Growth) -> Grade:
    """`grade` with the claim-versus-measurement note; a claim below the measured growth is a
    wrong bound (complexity criterion at most level 1), and says so among the improvements."""
    sentence, wrong = compare(answer, growth)
    notes = [*grade.notes, sentence]
    spec = next((c for c in rubric.criteria if c.id == CRITERION), None)
    if not wrong or spec is None:
        return grade.model_copy(update={"notes": notes})
    level = spec.nearest_level(WRONG_BOUND_LEVEL)
    criteria = [
        c if c.id != CRITERION or c.level <= level.score else _capped(c, spec, level.score)
        for c in grade.criteria
    ]
    return grade.rescored(
        rubric, criteria=criteria, notes=notes, improvements=[*grade.improvements, sentence]
    )


def _capped(score: CriterionScore, spec: Criterion, level: int) -> CriterionScore:
    return CriterionScore.at(
        spec, spec.nearest_level(level), score=level * 25.0, evidence=score.evidence
    )
