"""What an answer claims: a sentence's stance on a statement, red flags found, key points denied."""

from __future__ import annotations

import numpy as np
import pytest

from bot.config import PROJECT_ROOT
from bot.content import ContentBank, load_bank
from bot.grading.figures import Reference, Sentence, figure_clash
from bot.grading.offline import OfflineGrader
from bot.grading.polarity import measures, numbers_clash, stance


@pytest.fixture(scope="module")
def bank() -> ContentBank:
    return load_bank(PROJECT_ROOT)


@pytest.fixture(scope="module")
def grader(bank: ContentBank) -> OfflineGrader:
    return OfflineGrader(bank=bank)


@pytest.mark.parametrize(
    ("unit", "statement", "contradicts"),
    [
        ("A singly linked list is not enough here.", "A singly linked list is enough here.", True),
        (
            "Caching avoids recomputing the keys.",
            "They are stored so they are not recomputed.",
            False,
        ),
        (
            "It is a myth that the cache stores keys and values.",
            "The cache stores keys and values.",
            True,
        ),
        ("Decoding is compute-bound.", "Decoding is memory-bound.", True),
        ("3 layers x 3 tries each give 27 calls.", "3 layers x 3 tries each give 64 calls.", True),
        (
            "Keys and values are cached, queries are not.",
            "It stores keys and values, not queries.",
            False,
        ),
        (
            "If you don't cache, each step re-runs the prefix.",
            "Without a cache every step re-runs the prefix.",
            False,
        ),
        (
            "Higher temperature makes sampling more random.",
            "Higher temperature makes sampling less random.",
            True,
        ),
        (
            "Double quantization costs about 0.127 bits.",
            "Double quantization costs about 0.13 bits.",
            False,
        ),
    ],
)
def test_stance_reads_negation_denial_opposites_and_numbers(
    unit: str, statement: str, contradicts: bool
) -> None:
    assert stance(unit, statement).contradicts is contradicts


def grade(bank: ContentBank, grader: OfflineGrader, qid: str, text: str):  # type: ignore[no-untyped-def]
    q = bank.question(qid)
    return grader.grade(q, bank.rubric(q.rubric), text)


KV_RIGHT = (
    "During decoding the model keeps the keys and values of every earlier token, per layer and "
    "head, so each new step only projects the new token instead of re-running the prefix. "
    "The cache grows linearly with context length and batch size, which makes decoding memory "
    "bound: the cache, not the weights, limits how many sequences fit."
)


def test_a_misconception_is_found_shown_with_its_correction_and_costs_its_point(
    bank: ContentBank, grader: OfflineGrader
) -> None:
    q = bank.question("dd-kv-cache")
    flag = next(f for f in q.red_flags if f.id == "caches-queries")
    right = grade(bank, grader, "dd-kv-cache", KV_RIGHT)
    wrong = grade(bank, grader, "dd-kv-cache", KV_RIGHT + " " + flag.text)
    assert not right.red_flags
    assert [f.id for f in wrong.red_flags] == ["caches-queries"]
    assert wrong.red_flags[0].correction == flag.correction and wrong.red_flags[0].quote
    point = {k.id: k for k in wrong.key_points}[flag.key_point or ""]
    assert point.status == "contradicted" and point.correction == flag.correction
    assert wrong.score < right.score
    accuracy = {c.id: c for c in wrong.criteria}["accuracy"]
    assert accuracy.level <= 2 and "capped" in accuracy.feedback


def test_refuting_a_misconception_is_not_a_red_flag(
    bank: ContentBank, grader: OfflineGrader
) -> None:
    refuted = KV_RIGHT + " The KV cache does not store the queries of previous tokens."
    assert not grade(bank, grader, "dd-kv-cache", refuted).red_flags


def test_a_key_point_said_backwards_is_contradicted_with_the_quote(
    bank: ContentBank, grader: OfflineGrader
) -> None:
    q = bank.question("dd-kv-cache")
    point = q.key_points[0]  # what-is-cached, in the candidate's own words but denied
    denied = (
        "It is a myth that the keys and values of earlier tokens are kept per layer while "
        "decoding so that they are not recomputed."
    )
    rest = "The cache grows linearly with context and batch, so decoding is memory bound."
    result = {k.id: k for k in grade(bank, grader, "dd-kv-cache", denied + " " + rest).key_points}
    assert result[point.id].status == "contradicted"
    assert result[point.id].evidence and "myth" in result[point.id].evidence


MOE_SERVING = (
    "Mixture of experts routes each token to its top two experts, so only a fraction of the "
    "weights work per token. Serving still needs every expert resident in memory, because any "
    "token may pick any expert: Mixtral needs about {gb} GB in fp16, like a dense model of its "
    "total size, while its decode FLOPs are those of a much smaller model."
)


@pytest.mark.parametrize(("gb", "wrong"), [("26", True), ("94", False), ("90", False)])
def test_a_figure_the_reference_gives_otherwise_is_a_wrong_claim(
    bank: ContentBank, grader: OfflineGrader, gb: str, wrong: bool
) -> None:
    """A figure no key point states is checked against the reference answer's sentences: 26 GB
    where the reference says 94 GB is wrong; 94, or 90 (the same figure rounded), is not."""
    graded = grade(bank, grader, "dd-mixture-of-experts", MOE_SERVING.format(gb=gb))
    result = {k.id: k for k in graded.key_points}
    assert (result["serving-cost"].status == "contradicted") is wrong
    if wrong:
        correction = result["serving-cost"].correction or ""
        assert "94 -> 26 gb" in correction and "Mixtral needs about 94 GB" in correction
        assert "26 GB" in (result["serving-cost"].evidence or "")


def test_a_figure_stated_elsewhere_in_the_reference_is_not_wrong() -> None:
    """Figures for the same unit in another case of the same reference are not errors."""
    body = "A 7B model needs 14 GB of weights in fp16. A 70B model needs 140 GB of weights in fp16."
    sentences = tuple(Sentence(s, ()) for s in body.split(". "))
    reference = Reference(sentences, measures(body), np.zeros((2, 1)))
    closest_first = np.array([0.2, 0.9])  # the answer is closest to the 70B sentence
    stated = figure_clash("A 70B model needs 14 GB of weights in fp16.", reference, closest_first)
    assert stated == ("", None)
    why, sentence = figure_clash("A 70B model needs 40 GB of weights.", reference, closest_first)
    assert why == "140 -> 40 gb" and sentence is sentences[1]
    assert "of" not in measures("3 of 5 runs")  # a function word after a number names no unit


def test_figures_for_another_case_are_not_a_clash() -> None:
    """A figure qualified otherwise on both sides (int8 / fp16) is another case, not an error."""
    reference = "Mixtral needs about 94 GB of weights in fp16, like a dense model."
    assert numbers_clash("Mixtral needs about 26 GB of weights in fp16.", reference)
    assert numbers_clash("Mixtral needs about 26 GB of weights.", reference)
    assert not numbers_clash("Mixtral needs about 47 GB of weights in int8.", reference)
