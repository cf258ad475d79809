"""What an answer claims: a sentence's stance on a statement, red flags found, key points denied."""

from __future__ import annotations

import pytest

from bot.config import PROJECT_ROOT
from bot.content import ContentBank, load_bank
from bot.grading.offline import OfflineGrader
from bot.grading.polarity import stance


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
