"""Text shared by search and grading: stop words, answer units with exact spans, stems; and the
largest answer kept."""

from __future__ import annotations

import codecs
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, BinaryIO

import snowballstemmer

STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "either",
        "else",
        "etc",
        "even",
        "every",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "however",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "let",
        "like",
        "may",
        "me",
        "might",
        "more",
        "most",
        "much",
        "must",
        "my",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "often",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "out",
        "over",
        "own",
        "per",
        "rather",
        "same",
        "shall",
        "she",
        "should",
        "since",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "though",
        "through",
        "thus",
        "to",
        "too",
        "under",
        "until",
        "up",
        "upon",
        "us",
        "very",
        "via",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "whether",
        "which",
        "while",
        "who",
        "whom",
        "whose",
        "why",
        "will",
        "with",
        "within",
        "without",
        "would",
        "yes",
        "yet",
        "you",
        "your",
        "yours",
    ]
)
WORD = re.compile(r"[A-Za-z][A-Za-z0-9+#'-]*[A-Za-z0-9+#]|[A-Za-z]|\d+(?:\.\d+)?")
# Units end at sentence punctuation, list bullets, blank lines, and line breaks before a line
# that starts a new thought (a capital, a digit, a heading, a quote, a table row). A line break
# before a lowercase word is a soft wrap (an editor's or YAML's) and joins the two lines.
SPLIT = re.compile(r"(?<=[.!?;])\s+|\n\s*[-*•]\s*|\n\s*\n\s*|(?<=:)\s*\n|\n(?=\s*[A-Z0-9#>|`(\[])")
# A snowball stemmer keeps its working word in the object, so one shared by grading threads
# mixes their words up (wrong stems, IndexError): every thread gets its own.
_local = threading.local()


@dataclass(frozen=True)
class Unit:
    """A sentence-like piece of the answer, with its exact place in the answer."""

    start: int
    end: int
    text: str

    @property
    def words(self) -> list[str]:
        return WORD.findall(self.text)


def _stemmer() -> Any:
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = snowballstemmer.stemmer("english")
    return stemmer


@lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    return str(_stemmer().stemWord(word.lower()))


def content_stems(text: str) -> list[str]:
    """Stemmed words that carry meaning (no stop words, no one-letter tokens)."""
    return [stem(w) for w in WORD.findall(text) if w.lower() not in STOPWORDS and len(w) > 1]


def split_units(text: str, *, max_words: int = 45) -> list[Unit]:
    """Split into sentences, list items and lines; long run-ons are cut at commas."""
    units: list[Unit] = []
    position = 0
    for piece in SPLIT.split(text):
        start = text.find(piece, position) if piece else -1
        if start < 0:
            continue
        position = start + len(piece)
        units.extend(_cut_long(piece, start, max_words))
    return [u for u in units if WORD.search(u.text)]


def _cut_long(piece: str, start: int, max_words: int) -> list[Unit]:
    stripped = piece.strip()
    if not stripped:
        return []
    offset = start + piece.find(stripped)
    if len(stripped.split()) <= max_words:
        return [Unit(offset, offset + len(stripped), stripped)]
    parts: list[Unit] = []
    cursor = 0
    for match in re.finditer(r",\s+|\s+(?:and|but|so|which|because)\s+", stripped):
        if len(stripped[cursor : match.start()].split()) >= max_words // 2:
            parts.append(
                Unit(offset + cursor, offset + match.start(), stripped[cursor : match.start()])
            )
            cursor = match.end()
    parts.append(Unit(offset + cursor, offset + len(stripped), stripped[cursor:]))
    return [p for p in parts if p.text.strip()]


def explanation_quality(unit: Unit) -> float:
    """0..1: how much a unit reads as an explanation rather than a list of terms.

    Real explanations mix content words with function words ("because", "the", "so that") and
    run to a few words; a bag of key terms has almost no function words.
    """
    words = unit.words
    if not words:
        return 0.0
    function_ratio = sum(w.lower() in STOPWORDS for w in words) / len(words)
    length = min(1.0, len(words) / 6)
    structure = min(1.0, function_ratio / 0.25)
    return round(0.35 + 0.65 * structure * length, 4) if len(words) >= 3 else 0.35 * length


def overlap(needles: list[str], haystack: set[str]) -> float:
    """Share of `needles` (stems) present in `haystack`."""
    if not needles:
        return 0.0
    return sum(n in haystack for n in needles) / len(needles)


# An answer is kept up to this many bytes of UTF-8 (a thorough answer is about 10 KB; grading
# reads the first 30,000 characters); past it the text is cut, saved, and the candidate told.
MAX_ANSWER_BYTES = 1_000_000
ANSWER_CUT = (
    f"Your answer passed the {MAX_ANSWER_BYTES:,}-byte limit: the first {MAX_ANSWER_BYTES:,} "
    "bytes are kept and the rest was not saved."
)


def capped_answer(text: str, room: int = MAX_ANSWER_BYTES) -> tuple[str, bool]:
    """`text` cut (at a character boundary) to `room` bytes of UTF-8; whether it was cut."""
    raw = text.encode("utf-8", "surrogatepass")
    if len(raw) <= room:
        return text, False
    return raw[: max(room, 0)].decode("utf-8", "ignore"), True


def read_answer(stream: BinaryIO, *, errors: str = "strict") -> tuple[str, bool]:
    """At most MAX_ANSWER_BYTES of the stream as text (a stream that never ends, like
    /dev/zero, is read no further); whether there was more. Undecodable bytes follow `errors`.
    """
    raw = stream.read(MAX_ANSWER_BYTES + 1)
    cut = len(raw) > MAX_ANSWER_BYTES
    decoder = codecs.getincrementaldecoder("utf-8")(errors)
    return decoder.decode(raw[:MAX_ANSWER_BYTES], final=not cut), cut
