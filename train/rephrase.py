"""Meaning-preserving edits of a true passage, for the verifier's "supports" class.

A verifier trained only on verbatim kb text beside its falsifications learns that any change is a
contradiction. These edits change the wording and keep every claim: sentence order, a sentence or
an aside left out, synonyms from a small hand list, contractions in and out, numbers written as
words (and back), "X is Y" turned round, a first-person lead-in, and negated opposites
("is unsafe" -> "is not safe"), so that faithful texts with "not" in them exist too. Each edit
returns None when it finds nothing to change. Code spans are never touched.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

Edit = Callable[[str, random.Random], str | None]
CODE = re.compile(r"`[^`]+`")
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z`\"'(])")

# Words that mean the same in a technical answer (both directions are used). None of them is in
# the falsifier's list of opposites, except where noted: "large" -> "big" is a faithful change,
# "large" -> "small" a false one, and the model has to see both.
SYNONYMS: list[tuple[str, str]] = [
    ("fast", "quick"),
    ("large", "big"),
    ("use", "employ"),
    ("uses", "employs"),
    ("using", "employing"),
    ("used", "employed"),
    ("need", "require"),
    ("needs", "requires"),
    ("needed", "required"),
    ("often", "frequently"),
    ("show", "demonstrate"),
    ("shows", "demonstrates"),
    ("choose", "pick"),
    ("chooses", "picks"),
    ("method", "approach"),
    ("methods", "approaches"),
    ("help", "assist"),
    ("important", "crucial"),
    ("usually", "typically"),
    ("also", "additionally"),
    ("get", "obtain"),
    ("gets", "obtains"),
    ("keep", "retain"),
    ("keeps", "retains"),
    ("start", "begin"),
    ("starts", "begins"),
    ("build", "construct"),
    ("builds", "constructs"),
    ("enough", "sufficient"),
    ("whole", "entire"),
    ("main", "primary"),
    ("problem", "issue"),
    ("problems", "issues"),
    ("mistake", "error"),
    ("mistakes", "errors"),
    ("because", "since"),
    ("many", "a lot of"),
    ("easy", "simple"),
    ("hard", "difficult"),
    ("quickly", "rapidly"),
    ("shrink", "reduce"),
]

# (negated form, plain form): the same claim, said with and without a negation
NEGATED: list[tuple[str, str]] = [
    ("is not safe", "is unsafe"),
    ("is not stable", "is unstable"),
    ("is not correct", "is wrong"),
    ("is not right", "is wrong"),
    ("is not the same", "is different"),
    ("are not the same", "are different"),
    ("is not consistent", "is inconsistent"),
    ("are not sorted", "are unsorted"),
    ("is not sorted", "is unsorted"),
    ("is not enough", "is insufficient"),
    ("is not possible", "is impossible"),
    ("is not optional", "is required"),
    ("are not optional", "are required"),
    ("does not have", "lacks"),
    ("do not have", "lack"),
    ("does not succeed", "fails"),
    ("does not change", "stays the same"),
    ("do not change", "stay the same"),
    ("not many", "few"),
    ("not often", "rarely"),
    ("not cheap", "expensive"),
    ("is not small", "is large"),
    ("is not slow", "is fast"),
    ("does not need", "can skip"),
    ("never", "not ever"),
    ("nothing but", "only"),
    ("does not matter", "is irrelevant"),
    ("is not known", "is unknown"),
    ("is not likely", "is unlikely"),
    ("not uncommon", "common"),
]

CONTRACTIONS: list[tuple[str, str]] = [
    ("is not", "isn't"),
    ("are not", "aren't"),
    ("does not", "doesn't"),
    ("do not", "don't"),
    ("did not", "didn't"),
    ("cannot", "can't"),
    ("will not", "won't"),
    ("should not", "shouldn't"),
    ("it is", "it's"),
    ("that is", "that's"),
    ("there is", "there's"),
    ("I am", "I'm"),
    ("we are", "we're"),
    ("you are", "you're"),
    ("I would", "I'd"),
    ("I have", "I've"),
]

NUMBER_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
).split()

NEGATED_FIRST = 0.7
LEAD_INS = [
    "Basically, ",
    "In short, ",
    "I'd say ",
    "As I understand it, ",
    "The way I see it, ",
    "From what I've seen, ",
    "To put it simply, ",
    "Well, ",
    "So, ",
    "In my experience, ",
]


def _outside_code(text: str, pattern: re.Pattern[str]) -> list[re.Match[str]]:
    spans = [m.span() for m in CODE.finditer(text)]
    return [m for m in pattern.finditer(text) if not any(a <= m.start() < b for a, b in spans)]


def _keep_case(old: str, new: str) -> str:
    return new[:1].upper() + new[1:] if old[:1].isupper() else new


def _swap_from(
    pairs: list[tuple[str, str]], text: str, rng: random.Random, most: int
) -> str | None:
    """Replace up to `most` occurrences of words or phrases of `pairs`, either direction."""
    table = {a.lower(): b for a, b in pairs} | {b.lower(): a for a, b in pairs}
    words = sorted(table, key=len, reverse=True)
    pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")(?![\w'])", re.I)
    found = _outside_code(text, pattern)
    if not found:
        return None
    chosen = sorted(rng.sample(found, min(most, len(found))), key=lambda m: m.start())
    out, cursor = [], 0
    for match in chosen:
        out += [text[cursor : match.start()], _keep_case(match[0], table[match[0].lower()])]
        cursor = match.end()
    return "".join([*out, text[cursor:]])


def sentences(text: str) -> list[str]:
    return [s for s in SENTENCE.split(text.strip()) if s]


def reorder(text: str, rng: random.Random) -> str | None:
    parts = sentences(text)
    if len(parts) < 2:
        return None
    shuffled = parts[:]
    while shuffled == parts:
        rng.shuffle(shuffled)
    return " ".join(shuffled)


def leave_out_sentence(text: str, rng: random.Random) -> str | None:
    parts = sentences(text)
    if len(parts) < 2:
        return None
    del parts[rng.randrange(len(parts))]
    return " ".join(parts)


def drop_aside(text: str, rng: random.Random) -> str | None:
    """An aside left out: a parenthesis, or an example after "e.g." / "for example" / "such as"."""
    pattern = re.compile(
        r"\s+\([^()`]{3,80}\)|,\s*(?:e\.g\.|for example|such as|for instance)[^,.;]{3,80}(?=[,.;])"
    )
    found = _outside_code(text, pattern)
    if not found:
        return None
    match = rng.choice(found)
    return text[: match.start()] + text[match.end() :]


def synonyms(text: str, rng: random.Random) -> str | None:
    return _swap_from(SYNONYMS, text, rng, most=3)


def negated_opposite(text: str, rng: random.Random) -> str | None:
    return _swap_from(NEGATED, text, rng, most=1)


def contractions(text: str, rng: random.Random) -> str | None:
    return _swap_from(CONTRACTIONS, text, rng, most=3)


def number_words(text: str, rng: random.Random) -> str | None:
    """Small numbers written as words, or number words as digits."""
    digit = r"(?<![\w.^(/])(\d|1\d|20)(?![\w.^%/)])"
    word = r"\b(" + "|".join(NUMBER_WORDS[2:]) + r")\b"
    found = _outside_code(text, re.compile(f"{digit}|{word}", re.I))
    if not found:
        return None
    match = rng.choice(found)
    token = match[0]
    new = NUMBER_WORDS[int(token)] if token.isdigit() else str(NUMBER_WORDS.index(token.lower()))
    return text[: match.start()] + _keep_case(token, new) + text[match.end() :]


def turn_round(text: str, rng: random.Random) -> str | None:
    """ "X is Y." -> "Y is what X is." for a short subject and a short complement."""
    pattern = re.compile(
        r"(?:(?<=^)|(?<=[.!?] ))(?P<x>(?:[A-Z]\w*|The|A|An)(?: [\w-]+){0,4}) (?P<v>is|are) "
        r"(?P<y>(?:a|an|the) [^.;:!?`]{3,60})\."
    )
    found = _outside_code(text, pattern)
    if not found:
        return None
    match = rng.choice(found)
    x = match["x"]
    if x.split()[0] in ("The", "A", "An"):
        x = x[:1].lower() + x[1:]
    new = f"{_keep_case('A', match['y'])} {match['v']} what {x} {match['v']}."
    return text[: match.start()] + new + text[match.end() :]


def lead_in(text: str, rng: random.Random) -> str | None:
    if not text[:1].isupper() or text.startswith(("I ", "`")):
        return None
    first = text.split()[0]
    keep = first if first.isupper() or any(c.isupper() for c in first[1:]) else first.lower()
    return rng.choice(LEAD_INS) + keep + text[len(first) :]


EDITS: dict[str, Edit] = {
    "reorder": reorder,
    "leave-out": leave_out_sentence,
    "aside": drop_aside,
    "synonyms": synonyms,
    "negated-opposite": negated_opposite,
    "contractions": contractions,
    "number-words": number_words,
    "turn-round": turn_round,
    "lead-in": lead_in,
}


def rephrase(text: str, rng: random.Random, *, edits: int) -> tuple[list[str], str] | None:
    """Up to `edits` different edits applied one after another: (their names, the new text), or
    None when no edit applies."""
    names = list(EDITS)
    rng.shuffle(names)
    if rng.random() < NEGATED_FIRST:  # faithful texts with "not" in them are rare otherwise
        names.remove("negated-opposite")
        names.insert(0, "negated-opposite")
    applied: list[str] = []
    for name in names:
        changed = EDITS[name](text, rng)
        if changed and changed.strip() != text.strip():
            text, applied = " ".join(changed.split()), [*applied, name]
        if len(applied) == edits:
            break
    return (applied, text) if applied else None
