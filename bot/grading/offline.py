"""The offline grader: deterministic, fast, explainable; no network and no API key.

Per key point it finds the sentence of the answer that supports it best (packaged sentence
embeddings plus stemmed word overlap, weighted by how much that sentence explains rather than
lists terms). A calibrated model turns the evidence into a substance score; clarity comes from
how much of the answer is on topic and reads as explanation. Both are mapped onto the rubric.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import numpy as np

from bot.content import ContentBank, Criterion, KeyPoint, Question, Rubric, cache
from bot.grading.calibration import Scale, load_calibration
from bot.grading.claims import cap, check_claims, flag_results, mark, wrong_share
from bot.grading.copying import CopyIndex, key_points_label
from bot.grading.evidence import COVERED, PARTIAL, Evidence, gather, topic_vector
from bot.grading.figures import Reference, reference_of
from bot.grading.grade import (
    Coverage,
    CriterionScore,
    Grade,
    GraderInfo,
    KeyPointResult,
    Usage,
    prompt_hash,
)
from bot.grading.screen import Screened, screen, screen_notes, set_aside
from bot.grading.story import story_factor, story_note
from bot.grading.structure import load_structure_model
from bot.knowledge.embeddings import MODEL_NAME, get_encoder

SUPPORT_FLOOR, SUPPORT_SPAN = 0.1, 0.4
# A list of terms has a structure of 0.35 (no function words); real answers, even terse ones,
# sit above 0.45. The gate only needs to separate the two: a wider ramp (0.38..0.58) cut terse
# real answers too (SAF training Pearson 0.661 with it, 0.678 with this one; bags unchanged).
EXPLAINS_FLOOR, EXPLAINS_SPAN = 0.36, 0.06
OFF_TOPIC_MARGIN, OFF_TOPIC_SPAN = 0.05, 0.1
# The calibration comes from student answer sets whose graders give generous partial credit; an
# interviewer is stricter and gives a strong answer more. This Scale maps it onto our rubric
# scale. It was chosen for the lowest mean absolute error on half of the labelled questions
# (every other id; slopes 1.0-1.6, shifts -0.3-0.3), and checked on the other half (MAE 11.1
# and 10.3, from 12.1 and 12.1 unscaled). It keeps every ranking as it was. Grading against a
# reference answer from those same sets (the reference-answer rubric of `interview-bot
# eval-grader`) is on their own scale: its Scale is fitted with the calibration, on the
# training splits, and stored in calibration.json.
T = TypeVar("T")
INTERVIEW_SCALE = Scale(slope=1.4, shift=0.1)
CLARITY = {"clarity", "communication", "structure"}
# A behavioral story may be about anything (an LLM launch, a migration) and neighbouring prompts
# share most behaviours, so it is not compared with other questions. Its closeness to its own key
# points and their cues must reach STORY_FLOOR + STORY_SPAN for full credit; none at STORY_FLOOR.
# Measured on the behavioral questions: genuine stories 0.77-0.87, other questions' reference
# answers 0.18-0.40, the 10 labelled real answers 0.40-0.72 (9 keep at least 0.84 of their
# credit; the one at 0.40, scored 5 of 100 by hand, keeps half).
SUBJECT_FREE = {"behavioral"}
STORY_FLOOR, STORY_SPAN = 0.3, 0.2
# Which key points speak to which criterion, by words in the key point's id or text.
CRITERION_HINTS: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern, re.IGNORECASE)
    for name, pattern in {
        "complexity": r"complex|o\(|big-o|time and space|linear|logarithm",
        "edge-cases": r"edge|empty|duplicate|negative|overflow|test",
        "requirements": r"requirement|estimate|scale|clarif|budget|sla|slo",
        "scaling": r"scal|shard|partition|cache|batch|throughput|latency|cost",
        "reliability": r"fail|retry|fallback|idempot|timeout|outage|degrad|durab|replic",
        "data-and-apis": r"schema|data model|api|key|index|metadata|storage",
        "evals": r"eval|metric|regression|judge|golden|benchmark|monitor",
        "guardrails": r"guard|inject|pii|safety|access|permission|isolation|audit|approv",
        "tradeoffs": r"trade|versus|\bvs\b|instead|alternative|when to",
        "production": r"latency|cost|memory|throughput|serving|production|monitor",
        "ownership": r"personal|own|i did|action|decid",
        "impact": r"measur|impact|result|number|metric|outcome",
        "reflection": r"learn|postmortem|change|reflect|lesson|retro",
    }.items()
}


def _derived(
    bank: ContentBank, name: str, modules: list[str], build: Callable[[], T], *extra: str
) -> T:
    """`build()`, kept on disk (bot.content.cache) when the bank was loaded with its fingerprint:
    the bank's topics take ~10 s to embed and the copy index ~1 s, in every cold process."""
    if not bank.fingerprint:
        return build()
    key = cache.key_of([bank.fingerprint, cache.code_hash(*modules), *extra])
    return cache.derived().get(name, key, build)


class OfflineGrader:
    """`bank`, when given, lets the grader notice an answer that is about another question."""

    name = "offline"

    def __init__(self, bank: ContentBank | None = None, *, detect_copies: bool = True) -> None:
        self.bank = bank
        self.detect_copies = detect_copies
        self._topics: tuple[list[str], np.ndarray] | None = None
        self._copies: CopyIndex | None = None
        self._references: dict[str, Reference] = {}  # by kb path: sentences and figures
        self._lock = threading.Lock()

    def screen(self, answer: str, question: Question | None = None) -> Screened:
        """The answer as this grader sees it: what is set aside and why."""
        if question is None:
            return screen(answer, self._copy_index())
        own = [key_points_label(question.id)]
        if self.bank is not None and question.reference in self.bank.docs:
            own.append(self.bank.docs[question.reference].path)
        points = [kp.text for kp in question.key_points] if self.detect_copies else []
        return screen(answer, self._copy_index(), question.prompt, own, points)

    def grade(
        self, question: Question, rubric: Rubric, answer: str, screened: Screened | None = None
    ) -> Grade:
        """`screened`: this grader's screen of `answer`, when the caller has made it already."""
        began = time.perf_counter()
        screened = screened if screened is not None else self.screen(answer, question)
        evidence = gather(question.prompt, list(question.key_points), answer, screened)
        calibration = load_calibration()
        weights = np.array([kp.weight for kp in question.key_points])
        substance = self._substance(
            evidence,
            calibration.predict(evidence.features),
            evidence.key_point_coverage(weights),
            calibration.scale_for(rubric.id, INTERVIEW_SCALE),
        )
        story = self._story(question, evidence)
        substance *= self._on_topic(question, evidence) * story
        said = check_claims(question, evidence, self._reference(question))  # what is wrong
        substance *= 1 - wrong_share(question, said)
        results = [_key_point(kp, evidence, i) for i, kp in enumerate(question.key_points)]
        results = mark(results, said)
        clarity = self._clarity(evidence, substance)
        criteria = [_criterion(c, results, substance, clarity) for c in rubric.criteria]
        related = {c.id: {r.id for r in _related(c, results)} for c in rubric.criteria}
        criteria = cap(criteria, rubric, related, said)
        return Grade.assemble(
            question_id=question.id,
            rubric=rubric,
            criteria=criteria,
            key_points=results,
            strengths=[f"Covered: {r.text}" for r in results if r.status == "covered"][:3],
            improvements=_improvements(results),
            follow_up=_follow_up(question, results),
            notes=[*screen_notes(screened), *_notes(evidence), *story_note(story)],
            red_flags=flag_results(said),
            set_aside=set_aside(screened),
            language=screened.language.name,
            grader=GraderInfo(
                name=self.name,
                model=MODEL_NAME,
                version=calibration.version,
                prompt_hash=prompt_hash(
                    question.id,
                    rubric.id,
                    str(rubric.version),
                    *(t for kp in question.key_points for t in (kp.text, *kp.cues)),
                ),
            ),
            usage=Usage(seconds=round(time.perf_counter() - began, 4)),
        )

    def _reference(self, question: Question) -> Reference | None:
        """The reference answer whose figures the answer's are checked against."""
        if self.bank is None or question.reference not in self.bank.docs:
            return None
        if question.reference not in self._references:
            self._references[question.reference] = reference_of(self.bank.docs[question.reference])
        return self._references[question.reference]

    def _on_topic(self, question: Question, evidence: Evidence) -> float:
        """1.0 unless the answer is clearly closer to another question of the bank than to this
        one (an answer to a different question scores little, however good it is). A story has
        no subject to compare: it must instead sound like the behaviours asked about."""
        if evidence.centroid is None:
            return 1.0
        own = float(topic_vector(list(question.key_points)) @ evidence.centroid)
        if question.kind in SUBJECT_FREE:
            return float(np.clip((own - STORY_FLOOR) / STORY_SPAN, 0, 1))
        if self.bank is None:
            return 1.0
        ids, topics = self._topic_matrix()
        sims = topics @ evidence.centroid
        others = [s for qid, s in zip(ids, sims, strict=True) if qid != question.id]
        margin = max(others, default=own) - own - OFF_TOPIC_MARGIN
        return float(np.clip(1 - margin / OFF_TOPIC_SPAN, 0, 1)) if margin > 0 else 1.0

    @staticmethod
    def _story(question: Question, evidence: Evidence) -> float:
        """For a story question, how much the answer is told as the candidate's own story."""
        if question.kind not in SUBJECT_FREE:
            return 1.0
        return story_factor([evidence.units[j] for j in evidence.screened.kept])

    def warm_up(self) -> None:
        """Load the model and embed the bank's topics now, not in a candidate's first grade."""
        get_encoder()
        load_structure_model()
        if self.bank is not None:
            self._topic_matrix()
            self._copy_index()

    def _copy_index(self) -> CopyIndex | None:
        if self.bank is None or not self.detect_copies:
            return None
        with self._lock:  # built once, even when the first grades arrive together
            if self._copies is None:
                bank = self.bank
                self._copies = _derived(
                    bank, "copy-index", ["bot.grading.copying"], lambda: CopyIndex.from_bank(bank)
                )
            return self._copies

    def _topic_matrix(self) -> tuple[list[str], np.ndarray]:
        with self._lock:  # built once, even when the first grades arrive together
            if self._topics is None:
                assert self.bank is not None
                bank = self.bank

                def build() -> tuple[list[str], np.ndarray]:
                    ids = sorted(bank.questions)
                    vectors = [topic_vector(list(bank.questions[i].key_points)) for i in ids]
                    return ids, np.vstack(vectors)

                model = get_encoder().model_path.name  # another model: other vectors
                self._topics = _derived(bank, "topics", ["bot.grading.evidence"], build, model)
            return self._topics

    @staticmethod
    def _clarity(evidence: Evidence, substance: float) -> float:
        """On-topic share times how much it reads as explanation; never far above substance."""
        return min(evidence.on_topic_ratio * evidence.structure, 2 * substance)

    @staticmethod
    def _substance(evidence: Evidence, predicted: float, coverage: float, scale: Scale) -> float:
        """The calibrated score, gated twice: the on-topic text must explain rather than list
        terms, and it must support this question's key points (not just its field)."""
        if not any(evidence.relevant):
            return 0.0
        explains = 0.35 + 0.65 * float(
            np.clip((evidence.structure - EXPLAINS_FLOOR) / EXPLAINS_SPAN, 0, 1)
        )
        supports = float(np.clip((coverage - SUPPORT_FLOOR) / SUPPORT_SPAN, 0, 1))
        copied_back = 0.15 if evidence.restates_question else 1.0
        return scale(predicted * explains * supports * copied_back)


def _key_point(kp: KeyPoint, evidence: Evidence, index: int) -> KeyPointResult:
    support = float(evidence.support[index])
    status: Coverage = (
        "covered" if support >= COVERED else "partial" if support >= PARTIAL else "missed"
    )
    unit = evidence.best_unit[index]
    quote = evidence.units[unit].text if unit is not None and status != "missed" else None
    return KeyPointResult(
        id=kp.id,
        text=kp.text,
        weight=kp.weight,
        status=status,
        confidence=round(min(support, 1.0), 3),
        evidence=_clip(quote),
    )


def _clip(text: str | None, limit: int = 240) -> str | None:
    return text if text is None or len(text) <= limit else text[: limit - 1] + "…"


def _criterion(
    criterion: Criterion, results: list[KeyPointResult], substance: float, clarity: float
) -> CriterionScore:
    if criterion.id in CLARITY:
        value, quotes = clarity, _quotes(results, None)[:1]
    else:
        related = _related(criterion, results)
        value = substance
        if related:
            overall = _coverage(results)
            value = float(np.clip(substance + 0.25 * (_coverage(related) - overall), 0, 1))
        quotes = _quotes(results, related)
    score = round(100 * value, 1)
    level = criterion.nearest_level(round(score / 25))
    return CriterionScore.at(criterion, level, score=score, evidence=quotes)


def _related(criterion: Criterion, results: list[KeyPointResult]) -> list[KeyPointResult]:
    hint = CRITERION_HINTS.get(criterion.id)
    if hint is None:
        return []
    return [r for r in results if hint.search(f"{r.id} {r.text}")]


def _coverage(results: list[KeyPointResult]) -> float:
    weight = sum(r.weight for r in results)
    return sum(r.weight * r.confidence for r in results) / weight if weight else 0.0


def _quotes(results: list[KeyPointResult], related: list[KeyPointResult] | None) -> list[str]:
    pool = related if related else results
    ordered = sorted((r for r in pool if r.evidence), key=lambda r: -r.confidence)
    return list(dict.fromkeys(r.evidence for r in ordered if r.evidence))[:2]


def _improvements(results: list[KeyPointResult]) -> list[str]:
    missing = sorted((r for r in results if r.status != "covered"), key=lambda r: -r.weight)
    prefix = {"partial": "Explain more fully: ", "contradicted": "Got it wrong: "}
    return [prefix.get(r.status, "Missing: ") + r.text for r in missing[:3]]


def _follow_up(question: Question, results: list[KeyPointResult]) -> str | None:
    missed = {r.id for r in results if r.status != "covered"}
    for follow_up in question.follow_ups:
        if missed & set(follow_up.probes):
            return follow_up.prompt
    return None


def _notes(evidence: Evidence) -> list[str]:
    share = evidence.off_topic_share
    return [f"About {round(100 * share)}% of the answer is off topic."] if share > 0.25 else []
