"""What the answer claims that is wrong: red flags said, key points said backwards.

Topic overlap cannot tell a fact from its opposite, so after the evidence is gathered two checks
look at what the answer's sentences actually claim:

- a **red flag** (a misconception the question lists) is found when a sentence is close to it
  (its text or a first-person cue), closer to it than to its correction, and does not refute it
  (`bot.grading.polarity`): "a singly linked list is enough" is a flag, "a singly linked list is
  not enough" is not;
- a **key point is contradicted** when the sentence that best supports it says its opposite:
  a denial ("it is a myth that..."), other numbers in the same claim, or, when the sentence
  restates the point closely, a swapped opposite (compute-bound for memory-bound). A plain
  negation is not enough: on hand-written faithful paraphrases it misfired as often as it caught
  a falsification, so negated claims are left to the red flags.

Both take the key point's credit away; the grader caps the criteria they belong to and shows the
quote with the correction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bot.content import KeyPoint, Question, Rubric
from bot.grading.evidence import Evidence, embed_fixed, unit_vectors
from bot.grading.figures import Reference, wrong_figures
from bot.grading.grade import CriterionScore, KeyPointResult, RedFlagResult
from bot.grading.polarity import stance
from bot.text import content_stems, overlap

# A sentence says a red flag when it is this close to its text or a cue (MiniLM cosine) and
# shares this share of its content words. Chosen on the old labelled set and the `fit` half of
# bench/labelled-hard: 1 of 63 answers scored >= 80 has a flag found, 7 of 134 scored <= 40.
FLAG_SIM = 0.78
FLAG_LEX = 0.6
FLAG_MARGIN = 0.02  # ... and is closer to the flag than to its correction by this much
RESTATES = 0.6  # share of a key point's content words a sentence needs for a negation to count


@dataclass(frozen=True)
class FlagFound:
    id: str
    text: str
    correction: str
    key_point: str | None
    quote: str


@dataclass(frozen=True)
class Contradiction:
    key_point: str
    quote: str
    why: str
    correction: str | None = None  # what the candidate is told; else "says the opposite (why)"


@dataclass(frozen=True)
class Claims:
    flags: list[FlagFound]
    contradicted: list[Contradiction]

    @property
    def wrong_points(self) -> set[str]:
        """Key points whose credit is taken away."""
        return {c.key_point for c in self.contradicted} | {
            f.key_point for f in self.flags if f.key_point is not None
        }


def check_claims(
    question: Question, evidence: Evidence, reference: Reference | None = None
) -> Claims:
    """`reference`: the question's reference answer, whose figures are checked too."""
    if not evidence.screened.kept:
        return Claims([], [])
    contradicted = _contradictions(question, evidence)
    if reference is not None:
        seen = {c.key_point for c in contradicted}
        for wrong in wrong_figures(question, evidence, reference):
            if wrong.key_point not in seen:
                seen.add(wrong.key_point)
                contradicted.append(
                    Contradiction(wrong.key_point, wrong.quote, wrong.why, wrong.correction)
                )
    return Claims(_flags(question, evidence), contradicted)


def _flags(question: Question, evidence: Evidence) -> list[FlagFound]:
    if not question.red_flags:
        return []
    indices, vectors = unit_vectors(evidence)
    if not indices:
        return []
    found = []
    for flag in question.red_flags:
        said = (flag.text, *flag.cues)
        near = (embed_fixed(said) @ vectors.T).max(axis=0)
        fixed = embed_fixed((flag.correction,)) @ vectors.T
        for k in np.argsort(-near):
            j = indices[int(k)]
            text = evidence.units[j].text
            if near[k] < FLAG_SIM:
                break
            if near[k] < fixed[0, k] + FLAG_MARGIN or not evidence.relevant[j]:
                continue
            if max(overlap(content_stems(s), set(content_stems(text))) for s in said) < FLAG_LEX:
                continue
            if any(stance(text, s).contradicts for s in said):
                continue  # the candidate refutes the misconception: no flag
            found.append(FlagFound(flag.id, flag.text, flag.correction, flag.key_point, text))
            break
    return found


def _contradictions(question: Question, evidence: Evidence) -> list[Contradiction]:
    found = []
    for i, kp in enumerate(question.key_points):
        j = evidence.best_unit[i]
        if j is None:
            continue
        text = evidence.units[j].text
        verdict = _against(text, kp)
        if verdict:
            found.append(Contradiction(kp.id, text, verdict))
    return found


def _against(text: str, kp: KeyPoint) -> str:
    """Why `text` says the opposite of the key point, or '' when it does not."""
    for said in (kp.text, *kp.cues):
        result = stance(text, said)
        if not result.contradicts:
            continue
        if result.why.startswith("negated"):
            continue  # as often a paraphrase as an error (bench/data/falsified: 5 and 5)
        if result.why != "denied" and not result.why[:1].isdigit():
            restated = overlap(content_stems(said), set(content_stems(text)))
            if restated < RESTATES:
                continue  # an opposite in a loosely related sentence decides nothing
        return result.why
    return ""


# --- what the claims do to a grade -------------------------------------------------------------

ACCURACY = {"accuracy", "correctness"}  # the rubrics' criteria about being right
CAP_ONE, CAP_MORE = 2, 1  # the level they can reach with one wrong claim, with more


def wrong_share(question: Question, claims: Claims) -> float:
    """The weighted share of the key points the answer gets wrong."""
    total = sum(kp.weight for kp in question.key_points)
    wrong = sum(kp.weight for kp in question.key_points if kp.id in claims.wrong_points)
    return wrong / total if total else 0.0


def mark(results: list[KeyPointResult], claims: Claims) -> list[KeyPointResult]:
    """Key points the answer gets wrong lose their credit and say why, with the quote."""
    flags = {f.key_point: f for f in claims.flags if f.key_point is not None}
    against = {c.key_point: c for c in claims.contradicted}
    marked = []
    for r in results:
        flag, contra = flags.get(r.id), against.get(r.id)
        if flag is None and contra is None:
            marked.append(r)
            continue
        quote = flag.quote if flag is not None else contra.quote if contra else None
        correction = (
            flag.correction
            if flag is not None
            else contra.correction or f"Your answer says the opposite ({contra.why})."
            if contra
            else None
        )
        marked.append(
            r.model_copy(
                update={
                    "status": "contradicted",
                    "confidence": 0.0,
                    "evidence": quote,
                    "correction": correction,
                }
            )
        )
    return marked


def cap(
    criteria: list[CriterionScore], rubric: Rubric, related: dict[str, set[str]], claims: Claims
) -> list[CriterionScore]:
    """The accuracy criterion, and every criterion a wrong key point belongs to, capped: one
    wrong claim at 'adequate', more at 'weak'. `related`: criterion id -> its key point ids."""
    wrong = claims.wrong_points
    count = len(claims.flags) + len(
        {c.key_point for c in claims.contradicted} - {f.key_point for f in claims.flags}
    )
    if not count:
        return criteria
    level_cap = CAP_ONE if count == 1 else CAP_MORE
    by_id = {c.id: c for c in rubric.criteria}
    capped = []
    for score in criteria:
        hit = score.id in ACCURACY or bool(related.get(score.id, set()) & wrong)
        if not hit or score.level <= level_cap:
            capped.append(score)
            continue
        level = by_id[score.id].nearest_level(level_cap)
        capped.append(
            CriterionScore.at(
                by_id[score.id],
                level,
                score=min(score.score, 25.0 * level_cap),
                evidence=score.evidence,
                feedback=f"{level.descriptor} (capped: {count} wrong claim(s) in the answer)",
            )
        )
    return capped


def flag_results(claims: Claims) -> list[RedFlagResult]:
    return [
        RedFlagResult(
            id=f.id, text=f.text, correction=f.correction, key_point=f.key_point, quote=f.quote
        )
        for f in claims.flags
    ]
