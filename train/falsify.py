"""Automatic falsifications of a true passage, for the verifier's "contradicts" class.

Each rule changes one claim of the text and returns None when it finds nothing to change:
negation put in or taken out, an antonym or comparative swapped, a number, unit or complexity
changed, two entities of the passage swapped, and cause and effect reversed. Code spans are kept
as they are, except where a rule swaps two of them.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from bot.grading.polarity import OPPOSITES

PAIRS = OPPOSITES  # one list of opposites for the falsifier and the grader's stance check
SWAP = {a: b for a, b in PAIRS} | {b: a for a, b in PAIRS}
AUX = r"(is|are|was|were|can|will|should|must|does|do|did|has|have|would|could)"
COMPLEXITY = ["O(1)", "O(log n)", "O(n)", "O(n log n)", "O(n^2)", "O(2^n)"]
UNITS = [
    ("ms", "s"),
    ("KB", "MB"),
    ("MB", "GB"),
    ("GB", "TB"),
    ("seconds", "minutes"),
    ("bits", "bytes"),
    ("milliseconds", "seconds"),
    ("minutes", "hours"),
    ("days", "weeks"),
]
UNIT_SWAP = {a: b for a, b in UNITS} | {b: a for a, b in UNITS}
# An inserted "not" fits almost any sentence: without this it made 40% of the falsifications and
# the first model learnt nothing else.
RULE_CHANCE = {"negation-in": 0.35}
CODE = re.compile(r"`[^`]+`")
Rule = Callable[[str, random.Random], str | None]


def _outside_code(text: str, pattern: re.Pattern[str]) -> list[re.Match[str]]:
    spans = [m.span() for m in CODE.finditer(text)]
    return [m for m in pattern.finditer(text) if not any(a <= m.start() < b for a, b in spans)]


def _replace(text: str, match: re.Match[str], new: str) -> str:
    return text[: match.start()] + new + text[match.end() :]


def _keep_case(old: str, new: str) -> str:
    return new[:1].upper() + new[1:] if old[:1].isupper() else new


def insert_negation(text: str, rng: random.Random) -> str | None:
    found = [m for m in _outside_code(text, re.compile(rf"\b{AUX}\b(?! not\b|n't)", re.I))]
    if not found:
        return None
    match = rng.choice(found)
    return _replace(text, match, match[0] + " not")


def remove_negation(text: str, rng: random.Random) -> str | None:
    pattern = re.compile(rf"\b{AUX} not\b|\b{AUX}n't\b|\bcannot\b|\bnever\b|\bno longer\b", re.I)
    found = _outside_code(text, pattern)
    if not found:
        return None
    match = rng.choice(found)
    word = match[0].lower()
    if word == "cannot":
        new = "can"
    elif word == "never":
        new = "always"
    elif word == "no longer":
        new = "still"
    else:
        new = re.sub(r"\s*not$|n't$", "", match[0])
    return _replace(text, match, _keep_case(match[0], new))


def swap_antonym(text: str, rng: random.Random) -> str | None:
    words = r"\b(" + "|".join(sorted(map(re.escape, SWAP), key=len, reverse=True)) + r")\b"
    found = _outside_code(text, re.compile(words, re.I))
    if not found:
        return None
    match = rng.choice(found)
    return _replace(text, match, _keep_case(match[0], SWAP[match[0].lower()]))


def change_number(text: str, rng: random.Random) -> str | None:
    complexity = [c for c in COMPLEXITY if c in text]
    if complexity and rng.random() < 0.6:
        old = rng.choice(complexity)
        return text.replace(old, rng.choice([c for c in COMPLEXITY if c != old]), 1)
    units = _outside_code(text, re.compile(r"(?<=\d )(" + "|".join(UNIT_SWAP) + r")\b"))
    if units and rng.random() < 0.5:
        match = rng.choice(units)
        return _replace(text, match, UNIT_SWAP[match[0]])
    numbers = _outside_code(text, re.compile(r"(?<![\w.^])\d+(?:\.\d+)?(?![\w^])"))
    if not numbers:
        return None
    match = rng.choice(numbers)
    value = float(match[0])
    options = [value * 10, value / 10, value + 1, value * 2, max(value - 1, 0), value * 3]
    new = rng.choice([v for v in options if v != value] or [value + 1])
    return _replace(text, match, f"{new:g}")


def swap_entities(text: str, rng: random.Random) -> str | None:
    entity = re.compile(r"`[^`]+`|(?<=[a-z,;:(] )[A-Z][A-Za-z0-9+-]*[A-Z0-9][A-Za-z0-9+-]*")
    names = list(dict.fromkeys(m[0] for m in entity.finditer(text)))
    if len(names) < 2:
        return None
    a, b = rng.sample(names, 2)
    swapped = re.sub("|".join(re.escape(n) for n in (a, b)), lambda m: b if m[0] == a else a, text)
    return swapped if swapped != text else None


def reverse_cause(text: str, rng: random.Random) -> str | None:
    sentences = re.split(r"(?<=[.!?])\s+", text)
    cause = re.compile(
        r"^(?P<x>[^.;:]{8,}?),? (?P<link>because|since|so that|so) (?P<y>[^.;:]{8,}?)"
        r"(?P<end>[.;:!?]?)$"
    )
    spots = [n for n, s in enumerate(sentences) if cause.match(s)]
    if not spots:
        return None
    n = rng.choice(spots)
    match = cause.match(sentences[n])
    assert match is not None
    x, y = match["x"], match["y"]
    sentences[n] = f"{_keep_case(x, y)} {match['link']} {x[:1].lower() + x[1:]}{match['end']}"
    return " ".join(sentences)


RULES: dict[str, Rule] = {
    "negation-in": insert_negation,
    "negation-out": remove_negation,
    "antonym": swap_antonym,
    "number": change_number,
    "entities": swap_entities,
    "cause": reverse_cause,
}


def falsifications(text: str, rng: random.Random, *, most: int) -> list[tuple[str, str]]:
    """Up to `most` (rule name, falsified text) pairs, each from a different rule."""
    names = list(RULES)
    rng.shuffle(names)
    made: list[tuple[str, str]] = []
    for name in names:
        if rng.random() > RULE_CHANCE.get(name, 1.0):
            continue
        changed = RULES[name](text, rng)
        if changed and changed.strip() != text.strip():
            made.append((name, changed))
        if len(made) == most:
            break
    return made
