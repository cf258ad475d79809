"""The falsification rules that make the verifier's "contradicts" pairs (train/falsify.py)."""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "train"))

import falsify  # noqa: E402


def rng() -> random.Random:
    return random.Random(0)


def test_negation_goes_in_after_an_auxiliary() -> None:
    assert falsify.insert_negation("The heap is balanced.", rng()) == "The heap is not balanced."


def test_negation_comes_out_with_its_meaning_reversed() -> None:
    assert falsify.remove_negation("A set cannot hold duplicates.", rng()) == (
        "A set can hold duplicates."
    )
    assert falsify.remove_negation("It is not sorted.", rng()) == "It is sorted."
    assert falsify.remove_negation("Never retry writes.", rng()) == "Always retry writes."


def test_antonyms_swap_and_keep_capitals() -> None:
    assert falsify.swap_antonym("Faster lookups.", rng()) == "Slower lookups."
    assert falsify.swap_antonym("Latency goes up.", rng()) == "Throughput goes up."
    assert falsify.swap_antonym("Nothing to flip here.", rng()) is None


def test_code_spans_are_left_alone() -> None:
    assert falsify.insert_negation("Call `x.is_set()` here.", rng()) is None
    assert falsify.swap_antonym("Use `max(a)` now.", rng()) is None


def test_numbers_and_complexities_change() -> None:
    changed = falsify.change_number("The scan takes O(n) time.", random.Random(1))
    assert changed is not None and "O(n)" not in changed and changed.startswith("The scan takes O(")
    number = falsify.change_number("It keeps 3 replicas.", rng())
    assert number is not None and number != "It keeps 3 replicas." and "replicas" in number
    assert falsify.change_number("No figures at all.", rng()) is None


def test_entities_swap_places() -> None:
    text = "Clients talk to the CDN, and the CDN asks the API only on a miss."
    assert falsify.swap_entities(text, rng()) == (
        "Clients talk to the API, and the API asks the CDN only on a miss."
    )
    assert falsify.swap_entities("Only the CDN here.", rng()) is None


def test_cause_and_effect_are_reversed() -> None:
    text = "The cache misses more often because the working set grew."
    assert falsify.reverse_cause(text, rng()) == (
        "The working set grew because the cache misses more often."
    )


def test_each_falsification_differs_from_the_text_and_uses_a_distinct_rule() -> None:
    text = "Reads are faster after the index is built, because it is sorted in 2 passes."
    made = falsify.falsifications(text, rng(), most=3)
    assert len(made) == 3
    assert len({rule for rule, _ in made}) == 3
    assert all(changed != text for _, changed in made)


import rephrase  # noqa: E402


def test_rewordings_keep_the_claim() -> None:
    """The verifier's "supports" rewordings change words, never the claim's figures or polarity."""
    text = "The cache is small. It holds 3 entries per user. Reads are fast and writes are rare."
    assert rephrase.number_words(text, rng()) == (
        "The cache is small. It holds three entries per user. Reads are fast and writes are rare."
    )
    assert rephrase.reorder(text, rng()) != text
    assert sorted(rephrase.sentences(rephrase.reorder(text, rng()) or "")) == sorted(
        rephrase.sentences(text)
    )
    assert rephrase.turn_round("The heap is a complete binary tree.", rng()) == (
        "A complete binary tree is what the heap is."
    )
    for seed in range(20):
        edited = rephrase.rephrase(text, random.Random(seed), edits=3)
        assert edited is not None
        names, new = edited
        assert 1 <= len(names) <= 3 and new != text
        if "leave-out" not in names:  # a sentence left out may take its figure with it
            assert "3" in new or "three" in new
        if "negated-opposite" not in names:
            assert "not" not in new.split()
