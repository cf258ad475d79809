"""Does a piece of an answer read as a sentence, or as a list of terms?

Word salad (a shuffled or sorted vocabulary dump, key terms glued with "the / of / and / is",
a run of noun phrases with no claim) carries the right words with none of the meaning. A small
logistic model over the *shape* of a unit decides: function words are kept as themselves,
content words are reduced to their ending class, punctuation is kept, and the model reads
unigrams, bigrams and trigrams of those shapes plus a few whole-unit measures (the share of
neighbouring words in alphabetical order, the function-word share). It never sees the topic, so
it cannot learn a question. It is trained by `train/structure.py` on real English (the kb, the
public answer sets, key points and cues) against corruptions of the same sentences, and its
weights ship in `structure.json`.
"""

from __future__ import annotations

import json
import math
import re
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from bot.grading.verbs import is_verb
from bot.text import STOPWORDS

MODEL_FILE = Path(__file__).with_name("structure.json")
BUCKETS = 1 << 15
MIN_WORDS = 4  # shorter units are not used to train the model
LONG_UNIT = 10  # words: from here on, the model's verdict on one unit alone is trusted
LEANS, CYCLING = 0.5, 0.4  # see StructureModel.is_salad
TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9+#'-]*[A-Za-z0-9+#]|[A-Za-z]|\d+(?:\.\d+)?|[,;:()=/]|\S")
SUFFIXES = (
    ("ing", "ING"),
    ("tion", "NN"),
    ("sion", "NN"),
    ("ment", "NN"),
    ("ness", "NN"),
    ("ity", "NN"),
    ("ance", "NN"),
    ("ence", "NN"),
    ("ly", "LY"),
    ("ed", "ED"),
    ("able", "ADJ"),
    ("ible", "ADJ"),
    ("ive", "ADJ"),
    ("al", "ADJ"),
    ("ous", "ADJ"),
    ("er", "ER"),
    ("es", "S"),
    ("s", "S"),
)
DENSE = (
    "alphabetical",
    "function_share",
    "log_words",
    "ends_open",
    "starts_function",
    "seen_pairs",
    "log_common_pairs",
    "function_pairs",
    "content_run",
    "alternation",
    "repeated_shapes",
)


@dataclass(frozen=True)
class WordPairs:
    """Which neighbouring pairs of common words real English uses. In a sentence, common words
    meet in familiar pairs ("of the", "is not", "the cache"); in a shuffled or glued list they
    meet at random ("the of", "and is")."""

    common: frozenset[str]
    seen: frozenset[int]

    @staticmethod
    def key(first: str, second: str) -> int:
        return zlib.crc32(f"{first} {second}".encode())

    def seen_share(self, words: list[str]) -> tuple[float, int]:
        pairs = [
            (a, b)
            for a, b in zip(words, words[1:], strict=False)
            if a in self.common and b in self.common
        ]
        if not pairs:
            return 0.0, 0
        seen = sum(self.key(a, b) in self.seen for a, b in pairs) / len(pairs)
        return seen - 0.5, len(pairs)


@lru_cache(maxsize=65_536)
def shape(token: str) -> str:
    """A token's shape: function words stay themselves, content words become a class."""
    low = token.lower()
    if low in STOPWORDS:
        return low
    if not token[0].isalnum():
        return token
    if token[0].isdigit():
        return "#NUM"
    if any(c.isdigit() or c in "+#" for c in token) or (token.isupper() and len(token) > 1):
        return "#SYM"
    if is_verb(low):
        return "V" + next((f"-{n}" for e, n in SUFFIXES if low.endswith(e) and n != "NN"), "")
    for ending, name in SUFFIXES:
        if low.endswith(ending) and len(low) > len(ending) + 2:
            return name
    return "W"


def _bucket(feature: str) -> int:
    return zlib.crc32(feature.encode()) % BUCKETS


def dense_features(tokens: list[str], pairs: WordPairs) -> list[float]:
    words = [t.lower() for t in tokens if t[0].isalnum()]
    seen, common_pairs = pairs.seen_share(words)
    neighbours = list(zip(words, words[1:], strict=False))
    alphabetical = sum(a <= b for a, b in neighbours) / len(neighbours) if neighbours else 0.5
    function_share = sum(w in STOPWORDS for w in words) / max(len(words), 1)
    return [
        4 * (alphabetical - 0.5),
        function_share,
        math.log(max(len(words), 1)),
        float(bool(words) and words[-1] in {"the", "a", "an", "of", "and", "is", "that", "to"}),
        float(bool(words) and words[0] in {"of", "and", "is", "that"}),
        seen,
        math.log1p(common_pairs),
        *_rhythm([w in STOPWORDS for w in words]),
        _repeated_shapes([shape(t) for t in tokens if t[0].isalnum()]),
    ]


def _repeated_shapes(shapes: list[str], n: int = 4) -> float:
    """Share of shape n-grams that repeat an earlier one: a pattern cycled over and over ("W is
    W of the W is W of the") is not how sentences are built."""
    grams = [tuple(shapes[i : i + n]) for i in range(len(shapes) - n + 1)]
    return 1 - len(set(grams)) / len(grams) if len(grams) >= 4 else 0.0


def _rhythm(function: list[bool]) -> list[float]:
    """How function and content words take turns. English puts function words together ("of
    the", "that is") and content words in runs ("KV cache size"); glue words dropped between
    single terms make a strict one-for-one alternation."""
    if len(function) < 2:
        return [0.0, 0.0, 0.0]
    turns = list(zip(function, function[1:], strict=False))
    paired = sum(a and b for a, b in turns) / max(sum(function), 1)
    content_runs = _runs(function, False)
    longest, current = 1, 1
    for a, b in turns:
        current = current + 1 if a != b else 1
        longest = max(longest, current)
    return [paired, sum(content_runs) / max(len(content_runs), 1) - 1.5, longest / len(function)]


def _runs(flags: list[bool], value: bool) -> list[int]:
    runs: list[int] = []
    length = 0
    for flag in [*flags, not value]:
        if flag == value:
            length += 1
        elif length:
            runs.append(length)
            length = 0
    return runs


def sparse_features(tokens: list[str]) -> list[int]:
    """Shape n-grams. Sentence-final punctuation is left out: a period at the end says nothing
    about what comes before it, and anyone can add one."""
    while tokens and tokens[-1] in ".!?;:":
        tokens = tokens[:-1]
    shapes = ["<s>", *(shape(t) for t in tokens), "</s>"]
    grams = [f"u:{s}" for s in shapes[1:-1]]
    grams += [f"b:{a}|{b}" for a, b in zip(shapes, shapes[1:], strict=False)]
    grams += [f"t:{a}|{b}|{c}" for a, b, c in zip(shapes, shapes[1:], shapes[2:], strict=False)]
    return [_bucket(g) for g in grams]


@dataclass(frozen=True)
class StructureModel:
    weights: np.ndarray  # BUCKETS sparse weights, then one per dense feature
    bias: float
    threshold: float
    pairs: WordPairs

    def salad_probability(self, text: str) -> float:
        tokens = TOKEN.findall(text)
        rows = sparse_features(tokens)
        logit = self.bias + float(self.weights[rows].sum()) / math.sqrt(max(len(rows), 1))
        logit += float(self.weights[BUCKETS:] @ np.array(dense_features(tokens, self.pairs)))
        return 1 / (1 + math.exp(-max(min(logit, 30.0), -30.0)))

    def is_salad(self, text: str, probability: float | None = None) -> bool:
        """Salad when the model is sure, or when it leans that way and the unit cycles through
        the same pattern of shapes ("W is W of the W is W of the"), which real sentences do not
        (0.01% of real units of 10+ words against 16% of cyclic glue on its own).
        `probability`, when the caller has it already, saves computing it again."""
        if probability is None:
            probability = self.salad_probability(text)
        if probability >= self.threshold:
            return True
        words = [t.lower() for t in TOKEN.findall(text) if t[0].isalnum()]
        coarse = [w if w in STOPWORDS else "C" for w in words]
        return probability >= LEANS and _repeated_shapes(coarse) >= CYCLING


def word_count(text: str) -> int:
    return sum(1 for t in TOKEN.findall(text) if t[0].isalnum())


@lru_cache(maxsize=1)
def load_structure_model(path: Path = MODEL_FILE) -> StructureModel:
    data = json.loads(path.read_text())
    weights = np.zeros(BUCKETS + len(DENSE))
    for index, value in data["sparse"].items():
        weights[int(index)] = value
    weights[BUCKETS:] = data["dense"]
    pairs = WordPairs(frozenset(data["common_words"]), frozenset(data["seen_pairs"]))
    return StructureModel(weights, float(data["bias"]), float(data["threshold"]), pairs)
