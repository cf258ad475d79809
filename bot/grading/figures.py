"""Figures the answer gets wrong: a number checked against the reference answer, not only
against the key points.

A key point rarely states every figure its passage gives ("Mixtral needs about 94 GB in fp16"),
so an answer that restates a sentence of the reference answer with other figures for the same
thing ("about 26 GB in fp16") says something false that the key-point checks cannot see. Here
each sentence of the answer that holds a figure is matched to the closest sentences of the
reference answer; a figure for the same unit or noun that differs (`polarity.numbers_clash`) is
a wrong claim, unless the reference states that figure for that unit anywhere (a figure of
another case in the same document is not an error).

Measured on data never fitted on (2026-12-06, `python bench/correctness.py`'s sets): 7 of the 96
hand-falsified reference answers caught, 0 of their 64 faithful paraphrases; 0 of the 79 answers
scored 75 or more in the two labelled sets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from bot.content import KbFile, Question
from bot.grading.evidence import Evidence, unit_vectors
from bot.grading.polarity import Measures, close, measures, numbers_clash
from bot.knowledge.chunking import chunk_document
from bot.knowledge.embeddings import get_encoder
from bot.text import split_units

SIMILAR = 0.65  # MiniLM cosine between an answer sentence and a reference sentence
NEAREST = 3  # reference sentences tried per answer sentence, closest first
MIN_WORDS = 4
DIGIT = re.compile(r"\d")
CODE = re.compile(r"```.*?```|<!--.*?-->", re.DOTALL)


@dataclass(frozen=True)
class Sentence:
    text: str
    key_points: tuple[str, ...]  # the key points its passage is marked for


@dataclass(frozen=True)
class Reference:
    """A reference answer's sentences (with their vectors) and every figure it states, by unit."""

    sentences: tuple[Sentence, ...]
    figures: Measures
    vectors: np.ndarray  # one row per sentence (kept here, not in the key points' cache)


@dataclass(frozen=True)
class WrongFigure:
    key_point: str
    quote: str
    why: str  # "94 -> 26 gb"
    reference: str  # the reference answer's sentence that gives the other figure

    @property
    def correction(self) -> str:
        return f'The reference answer gives another figure ({self.why}): "{self.reference}"'


def reference_of(doc: KbFile) -> Reference:
    sentences: list[Sentence] = []
    for chunk in chunk_document(doc):
        text = CODE.sub(" ", chunk.text)
        for unit in split_units(text):
            words = unit.text.split()
            if len(words) >= MIN_WORDS and DIGIT.search(unit.text):  # no figure, no clash
                sentences.append(Sentence(" ".join(words), chunk.key_point_ids))
    vectors = get_encoder().encode([s.text for s in sentences]) if sentences else np.zeros((0, 1))
    return Reference(tuple(sentences), measures(CODE.sub(" ", doc.body)), vectors)


def wrong_figures(
    question: Question, evidence: Evidence, reference: Reference
) -> list[WrongFigure]:
    """Sentences of the answer that give other figures than the reference for the same thing."""
    indices, vectors = unit_vectors(evidence)
    if not indices or not reference.sentences:
        return []
    found: list[WrongFigure] = []
    for k, j in enumerate(indices):
        text = evidence.units[j].text
        if not evidence.relevant[j] or not DIGIT.search(text):
            continue
        closeness = reference.vectors @ vectors[k]
        why, sentence = figure_clash(text, reference, closeness)
        if sentence is not None:
            point = _key_point(question, sentence, evidence, j)
            found.append(WrongFigure(point, text, why, sentence.text))
    return found


def figure_clash(
    text: str, reference: Reference, closeness: np.ndarray
) -> tuple[str, Sentence | None]:
    """Why `text` gives another figure than the closest reference sentences (`closeness`: its
    cosine with each), and that sentence; ('', None) when it does not."""
    mine = measures(text)
    for i in np.argsort(-closeness)[:NEAREST]:
        if closeness[i] < SIMILAR:
            break
        why = numbers_clash(text, reference.sentences[int(i)].text)  # half its words shared
        unit = why.rsplit(" ", 1)[-1] if why else ""
        stated = reference.figures.get(unit, set())
        if why and not any(close(a, b) for a in mine.get(unit, set()) for b in stated):
            return why, reference.sentences[int(i)]
    return "", None


def _key_point(question: Question, sentence: Sentence, evidence: Evidence, unit: int) -> str:
    """The key point the wrong figure belongs to: the one its reference passage is marked for,
    else the one this sentence of the answer supports best."""
    ids = [kp.id for kp in question.key_points]
    marked = [kp for kp in sentence.key_points if kp in ids]
    if marked:
        return marked[0]
    best = [i for i, j in enumerate(evidence.best_unit) if j == unit]
    return ids[best[0]] if best else ids[int(np.argmax(evidence.support))]
