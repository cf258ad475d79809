"""Evidence for each key point in an answer, and the features the offline score is built from.

Everything here is deterministic: the same answer and key points give the same numbers.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from bot.content import KeyPoint
from bot.grading.screen import Screened, screen
from bot.knowledge.embeddings import DIMENSION, get_encoder
from bot.text import WORD, Unit, content_stems, explanation_quality, overlap

COVERED = 0.5  # key point support at which a key point counts as covered
PARTIAL = 0.3  # ... and as partly covered
RELEVANT_SIM = 0.28  # a unit this similar to a key point or the prompt is on topic
RELEVANT_LEX = 0.25
FEATURES = ("aligned_recall", "novel_recall", "length_ratio", "copied")
# How strongly a key point token that the question already contains is discounted in the
# token alignment: its weight is (1 - its best similarity to a question token) ** NOVELTY_POWER.
# Chosen on the training splits (SAF training Pearson 0.746 / 0.755 / 0.756 / 0.754 / 0.746 at
# 1 / 2 / 3 / 4 / 6; SciEntsBank train AUC 0.758 / 0.767 / 0.768 / 0.767 / 0.766).
NOVELTY_POWER = 3
# Key point phrasings are aligned with this many answer units nearest to them (a key point is
# rarely explained over more than a few sentences); shorter answers use all their units.
LOCAL_UNITS = 3
# Length helps up to four times the key points' own length (log 4 = 1.39): the public answer
# sets hold no longer answers to learn from, and more words past that say nothing new.
MAX_LENGTH_RATIO = math.log(4)


@lru_cache(maxsize=4096)
def _tokens(text: str) -> np.ndarray:
    """A repeated text's token vectors (key point phrasings, prompts), kept in float16 (the
    bank's 1,145 key point phrasings hold 55 MB of them in float32) and widened when used; its
    sentence vector is `_vector`'s."""
    _, tokens = get_encoder().encode_with_tokens([text])
    kept: np.ndarray = tokens[0].astype(np.float16)
    return kept


@lru_cache(maxsize=4096)
def _stems_cached(text: str) -> tuple[str, ...]:
    return tuple(content_stems(text))


@lru_cache(maxsize=16384)
def _vector(text: str) -> np.ndarray:
    """A repeated text's vector alone (1.5 KB): the bank's key points, cues, prompts, red flags
    and corrections all fit (~6,500), where `_tokens`' token vectors would not. With one shared
    cache of 4,096, a server that had graded every question re-embedded them on each grade
    (300-word grade p50 134 ms instead of ~45 ms, `python bench/run.py grading`)."""
    vector: np.ndarray = get_encoder().encode([text])[0]
    return vector


def embed_fixed(texts: tuple[str, ...]) -> np.ndarray:
    """Embeddings of texts that repeat across answers (key points, prompts): cached."""
    return np.vstack([_vector(t) for t in texts]) if texts else np.zeros((0, DIMENSION))


@lru_cache(maxsize=8192)
def _novelty(phrasing: str, question: str) -> np.ndarray:
    """Each token's weight in the alignment: how far it is from every token of the question
    (what the question already says earns nothing)."""
    tokens, asked = _tokens(phrasing), _tokens(question)
    echo = np.clip((tokens.astype(np.float32) @ asked.astype(np.float32).T).max(axis=1), 0, 1)
    novelty: np.ndarray = (1 - echo) ** NOVELTY_POWER
    return novelty


class _UnitCache:
    """The last UNIT_CACHE answer units' vectors: a follow-up re-grades the same answer with a
    reply added, and a resubmission changes a sentence or two, so most units come back."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[str, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self.lock = threading.Lock()

    def embed(self, texts: list[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Embeddings (and token vectors) of the units, each text not seen lately run once."""
        with self.lock:
            known = {t: self.items[t] for t in dict.fromkeys(texts) if t in self.items}
            for t in known:
                self.items.move_to_end(t)
        fresh = [t for t in dict.fromkeys(texts) if t not in known]
        if fresh:
            vectors, tokens = get_encoder().encode_with_tokens(fresh)
            made = {t: (vectors[n], tokens[n]) for n, t in enumerate(fresh)}
            with self.lock:
                self.items.update(made)
                while len(self.items) > self.size:
                    self.items.popitem(last=False)
            known |= made
        return np.vstack([known[t][0] for t in texts]), [known[t][1] for t in texts]


UNIT_CACHE = _UnitCache(1024)


def _embed_once(texts: list[str]) -> tuple[np.ndarray, list[np.ndarray]]:
    return UNIT_CACHE.embed(texts)


@dataclass
class Evidence:
    """What the answer offers for each key point, plus the answer-level features."""

    screened: Screened
    relevant: list[bool]
    quality: np.ndarray  # per unit, how much it explains (0 for off-topic or dropped units)
    support: np.ndarray  # per key point, 0..1
    best_unit: list[int | None]  # per key point, the unit that supports it best
    features: dict[str, float]
    centroid: np.ndarray | None = None  # unit vector of the on-topic text
    restates_question: bool = False  # the answer is the question's own words, at length

    @property
    def units(self) -> list[Unit]:
        return self.screened.units

    @property
    def on_topic_ratio(self) -> float:
        """Share of the answer's words (repeats and orders to the grader left out) that are on
        topic and earn credit: copies and term lists count against it."""
        counted = [j for j in range(len(self.units)) if self.screened.counted(j)]
        total = sum(len(self.units[j].words) for j in counted)
        kept = sum(len(u.words) for u, ok in zip(self.units, self.relevant, strict=True) if ok)
        return kept / total if total else 0.0

    @property
    def off_topic_share(self) -> float:
        """Share of the words left after the screen that are off topic."""
        open_units = self.screened.kept
        total = sum(len(self.units[j].words) for j in open_units)
        off = sum(len(self.units[j].words) for j in open_units if not self.relevant[j])
        return off / total if total else 0.0

    def key_point_coverage(self, weights: np.ndarray) -> float:
        """Weighted share of key points with support, saturating at the 'covered' mark."""
        if not len(self.support):
            return 0.0
        return float(weights @ np.clip(self.support / COVERED, 0, 1) / weights.sum())

    @property
    def structure(self) -> float:
        """Mean explanation quality of the on-topic units."""
        kept = self.quality[np.array(self.relevant, dtype=bool)] if self.units else self.quality
        return float(kept.mean()) if len(kept) else 0.0


def gather(
    question: str, key_points: list[KeyPoint], answer: str, screened: Screened | None = None
) -> Evidence:
    """Screen the answer (orders to the grader, repeats, copies and term lists earn nothing),
    drop off-topic text, and score every key point on what is left."""
    screened = screened if screened is not None else screen(answer, question=question)
    units, open_units = screened.units, screened.kept
    weights = np.array([kp.weight for kp in key_points], dtype=float)
    nothing = np.zeros(len(key_points))
    if not open_units:
        flat = [False] * len(units)
        return Evidence(
            screened, flat, np.zeros(len(units)), nothing, [None] * len(key_points), _empty()
        )
    phrasings, starts = _phrasings(key_points)
    phrasing_vecs = embed_fixed(phrasings)
    prompt_vec = embed_fixed((question,))
    open_vecs, open_tokens = _embed_once([units[j].text for j in open_units])
    # Per key point, the best of its text and its cues (key points x open units).
    phrasing_sim = phrasing_vecs @ open_vecs.T
    sim = np.maximum.reduceat(phrasing_sim, starts, axis=0)
    stem_lists = [content_stems(units[j].text) for j in open_units]
    stem_sets = [set(stems) for stems in stem_lists]
    phrasing_stems = [list(_stems_cached(p)) for p in phrasings]  # key points and cues repeat
    kp_stems = [phrasing_stems[s] for s in starts]
    prompt_stems = set(_stems_cached(question))
    lex = np.maximum.reduceat(
        np.array([[overlap(ps, us) for us in stem_sets] for ps in phrasing_stems]),
        starts,
        axis=0,
    )
    prompt_sim = (prompt_vec @ open_vecs.T)[0]
    on_topic = (
        (sim.max(axis=0) >= RELEVANT_SIM)
        | (lex.max(axis=0) >= RELEVANT_LEX)
        | (prompt_sim >= RELEVANT_SIM + 0.1)
    )
    open_quality = np.array(
        [
            explanation_quality(units[j]) if ok else 0.0
            for j, ok in zip(open_units, on_topic, strict=True)
        ]
    )
    combined = (0.65 * np.clip((sim - 0.2) / 0.45, 0, 1) + 0.35 * lex) * open_quality[None, :]
    support = combined.max(axis=1)
    best = [
        open_units[int(combined[i].argmax())] if support[i] > 0 else None
        for i in range(len(key_points))
    ]
    relevant = [False] * len(units)
    quality = np.zeros(len(units))
    for k, j in enumerate(open_units):
        relevant[j], quality[j] = bool(on_topic[k]), float(open_quality[k])
    kept = [k for k in range(len(open_units)) if on_topic[k]]
    centroid = _unit(open_vecs[kept].mean(axis=0)) if kept else None
    features = _empty()
    if kept:
        features = {
            "aligned_recall": _aligned_recall(
                phrasings,
                starts,
                weights,
                question,
                [open_tokens[k] for k in kept],
                sim_rows=phrasing_sim[:, kept],
            ),
            **_word_features(
                prompt_stems, key_points, kp_stems, units, stem_lists, open_units, kept
            ),
        }
    answer_stems = [x for k in kept for x in stem_sets[k]]
    restates = (
        bool(answer_stems)
        and len(answer_stems) >= 0.5 * len(prompt_stems)
        and (sum(x in prompt_stems for x in answer_stems) / len(answer_stems) >= 0.9)
    )
    return Evidence(screened, relevant, quality, support, best, features, centroid, restates)


def unit_vectors(evidence: Evidence) -> tuple[list[int], np.ndarray]:
    """The answer's units still open after the screen, and their vectors (from the unit cache:
    `gather` embedded them already)."""
    indices = list(evidence.screened.kept)
    if not indices:
        return [], np.zeros((0, DIMENSION))
    vectors, _ = _embed_once([evidence.units[j].text for j in indices])
    return indices, vectors


def _phrasings(key_points: list[KeyPoint]) -> tuple[tuple[str, ...], np.ndarray]:
    """Every key point's text followed by its cues, and the row where each key point starts."""
    texts = tuple(t for kp in key_points for t in (kp.text, *kp.cues))
    starts = np.cumsum([0] + [1 + len(kp.cues) for kp in key_points[:-1]])
    return texts, starts


def _aligned_recall(
    phrasings: tuple[str, ...],
    starts: np.ndarray,
    weights: np.ndarray,
    question: str,
    unit_tokens: list[np.ndarray],
    sim_rows: np.ndarray,
) -> float:
    """Token alignment (as in BERTScore recall): each key point token's best cosine with a
    token of the answer, averaged with the tokens' novelty weights. A key point counts with the
    best of its text and its cues, and weighs its weight times its text's novel mass. It asks
    whether the answer says what each key point adds to the question, word by word in context.

    Each phrasing is aligned with the LOCAL_UNITS units of the answer closest to it, not with
    the whole answer: a long answer offers more tokens to match by chance, and unrelated text
    appended to an answer must not raise what it already says."""
    per_phrasing = [_tokens(p) for p in phrasings]
    tokens = np.vstack(per_phrasing).astype(np.float32)
    novelty = np.concatenate([_novelty(p, question) for p in phrasings])
    offsets = np.cumsum([0, *[len(t) for t in per_phrasing[:-1]]])
    answer_tokens = np.vstack(unit_tokens)
    bounds = np.cumsum([0, *[len(t) for t in unit_tokens[:-1]]])
    per_unit = np.maximum.reduceat(tokens @ answer_tokens.T, bounds, axis=1)  # tokens x units
    if per_unit.shape[1] > LOCAL_UNITS:
        nearest = np.argsort(-sim_rows, axis=1)[:, :LOCAL_UNITS]  # phrasings x LOCAL_UNITS
        lengths = [len(t) for t in per_phrasing]
        rows = np.repeat(nearest, lengths, axis=0)
        best = np.take_along_axis(per_unit, rows, axis=1).max(axis=1)
    else:
        best = per_unit.max(axis=1)
    mass = np.add.reduceat(novelty, offsets)
    recall = np.add.reduceat(novelty * best, offsets) / np.maximum(mass, 1e-9)
    per_point = np.maximum.reduceat(recall, starts)
    share = weights * mass[starts]
    return float(share @ per_point / share.sum()) if share.sum() > 0 else 0.0


def _key_point_vectors(phrasing_vecs: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """One unit vector per key point: the mean of its text's and its cues' embeddings."""
    sums = np.add.reduceat(phrasing_vecs, starts, axis=0)
    normed: np.ndarray = sums / (np.linalg.norm(sums, axis=1, keepdims=True) + 1e-9)
    return normed


def topic_vector(key_points: list[KeyPoint]) -> np.ndarray:
    """Weighted mean of a question's key point embeddings, normalised: what it is about."""
    phrasings, starts = _phrasings(key_points)
    vecs = _key_point_vectors(embed_fixed(phrasings), starts)
    weights = np.array([kp.weight for kp in key_points])
    return _unit((vecs * weights[:, None]).sum(axis=0))


def _unit(vector: np.ndarray) -> np.ndarray:
    normed: np.ndarray = vector / (np.linalg.norm(vector) + 1e-9)
    return normed


def _empty() -> dict[str, float]:
    return dict.fromkeys(FEATURES, 0.0)


def _word_features(
    question_set: set[str],
    key_points: list[KeyPoint],
    kp_stems: list[list[str]],
    units: list[Unit],
    stem_lists: list[list[str]],
    open_units: list[int],
    kept: list[int],
) -> dict[str, float]:
    """What the on-topic text adds in words: the share of the key points' new terms (not in
    the question) it uses, its length against theirs, and how much of it echoes the question.
    `kept` indexes `open_units` and `stem_lists`."""
    answer_stems = [s for k in kept for s in stem_lists[k]]
    reference_stems = [s for stems in kp_stems for s in stems]
    novel = [s for s in dict.fromkeys(reference_stems) if s not in question_set]
    words = sum(len(units[open_units[k]].words) for k in kept)
    reference_words = sum(len(WORD.findall(kp.text)) for kp in key_points)
    return {
        "novel_recall": overlap(novel, set(answer_stems)),
        "length_ratio": min(math.log((words + 1) / (reference_words + 1)), MAX_LENGTH_RATIO),
        "copied": sum(s in question_set for s in answer_stems) / max(len(answer_stems), 1),
    }
