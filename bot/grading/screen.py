"""What of an answer may earn credit: the screen every grader runs before it grades.

The answer is cut into units (sentences, list items) and each one is checked, in this order:
- addressed to the grader (bot/grading/injection.py): removed, shown in the feedback;
- a repeat: a unit whose content stems are (nearly) those of an earlier unit counts once, so
  saying the same thing again never raises a score;
- copied from the key points, the reference answer or the kb (bot/grading/copying.py): earns
  nothing, and the grade names the source;
- a list of terms rather than a claim (bot/grading/structure.py): earns nothing.
The rest is graded. The answer's language is detected on the way.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Literal

from bot.grading.copying import CopyIndex, restates
from bot.grading.grade import SetAside
from bot.grading.injection import injected_units
from bot.grading.language import Language, detect, notice
from bot.grading.structure import LONG_UNIT, load_structure_model, word_count
from bot.grading.verbs import is_verb
from bot.text import WORD, Unit, content_stems, split_units

Reason = Literal["injected", "repeated", "copied", "list of terms", "too long"]
# Characters of an answer that are graded (about 5,000 words, five times a thorough answer);
# the rest is kept in the stored answer and set aside, so a huge paste cannot stall a grader.
MAX_GRADED_CHARS = 30_000
REMOVED = "[text addressed to the grader removed]"
NEAR_DUPLICATE = 0.8  # Jaccard of content stems at which a unit repeats an earlier one
CRUMB_STEMS = 4  # a unit with fewer content stems can be a copy only as part of one
# An answer made mostly of fragments and term lists is a vocabulary dump as a whole: its few
# units that pass as sentences are dropped with the rest.
DUMP_SHARE, DUMP_MIN_UNITS, DUMP_MIN_WORDS = 0.5, 3, 8
# Word-weighted mean salad probability at which a whole answer is a dump. Real answers of two or
# more units: median 0.07-0.11 (public sets, labelled answers), 99% below 0.58, 99.5% below 0.63;
# shuffled vocabularies cut into sentences of 6-12 words: 0.55-0.77, 1% below 0.62. SAF and
# SciEntsBank figures move by at most 0.001 at this value.
DUMP_MEAN = 0.62
ASKS_FOR_LIST = re.compile(
    r"(^|[.?!]\s+)(please\s+)?(name|list|state|enumerate|mention|identify)\b"
    r"|\b(name|list|state|give|mention)\s+(at\s+least\s+)?(two|three|four|five|\d+)\b"
    r"|\bwhat\s+are\s+the\s+(two|three|four|five|\d+)\b",
    re.IGNORECASE,
)
LIST_SEPARATOR = re.compile(r"[,;/]|\band\b|\bor\b")
TOKEN_SPAN = re.compile(r"\S+")
CODE_START = re.compile(
    r"\s*(def|class|return|for|while|if|elif|else|import|from|with|try|except|yield|lambda)\b"
    r"[^.!?]*[:(=]|\s*```|\s*#\s|\s*>>>"
)


@dataclass(frozen=True)
class Dropped:
    reason: Reason
    source: str | None = None  # for copies: what was copied


@dataclass
class Screened:
    units: list[Unit]
    dropped: list[Dropped | None]
    language: Language = field(default_factory=lambda: detect(""))

    @property
    def kept(self) -> list[int]:
        return [i for i, d in enumerate(self.dropped) if d is None]

    def with_reason(self, reason: Reason) -> list[tuple[Unit, Dropped]]:
        return [
            (u, d)
            for u, d in zip(self.units, self.dropped, strict=True)
            if d and d.reason == reason
        ]

    def counted(self, index: int) -> bool:
        """Whether a unit counts towards the answer's length (repeats and orders do not)."""
        drop = self.dropped[index]
        return drop is None or drop.reason not in ("injected", "repeated", "too long")

    def for_llm(self) -> str:
        """The answer as an LLM grader should see it: orders to the grader removed (one marker
        for a run of them), copies marked as earning nothing, repeats left out."""
        parts: list[str] = []
        for unit, drop in zip(self.units, self.dropped, strict=True):
            if drop is None or drop.reason == "list of terms":
                parts.append(unit.text)
            elif drop.reason == "copied":
                parts.append(f"[copied from {drop.source}; earns no credit: {unit.text}]")
            elif drop.reason == "injected" and (not parts or parts[-1] != REMOVED):
                parts.append(REMOVED)
        return "\n".join(parts)


def asks_for_list(question: str) -> bool:
    """Whether the question asks for an enumeration ("Name three...", "List the..."): then a
    list of short phrases is an answer, not a vocabulary dump."""
    return bool(ASKS_FOR_LIST.search(question))


def screen(
    answer: str,
    copies: CopyIndex | None = None,
    question: str = "",
    own: Collection[str] = (),
    points: Sequence[str] = (),
) -> Screened:
    """Screen `answer` to `question` (its prompt); `own` names that question's own sources in
    the copy index (its key points and reference answer), `points` are its key point texts."""
    graded, beyond = _within_limit(answer)
    period = repeating_prefix(graded)
    units = split_units(graded[:period])
    repeats = [u for u in split_units(graded[period:]) if u.text]
    units += [Unit(u.start + period, u.end + period, u.text) for u in repeats]
    dropped: list[Dropped | None] = [
        Dropped("injected") if bad else None for bad in injected_units([u.text for u in units])
    ]
    for i in range(len(units) - len(repeats), len(units)):
        dropped[i] = dropped[i] or Dropped("repeated")
    _mark_repeats(units, dropped)
    if copies is not None:
        open_units = [i for i, d in enumerate(dropped) if d is None]
        found = copies.find_in([units[i].text for i in open_units], own)
        for i, copy in zip(open_units, found, strict=True):
            if copy is not None:
                dropped[i] = Dropped("copied", copy.source)
            elif any(restates(units[i].text, point) for point in points):
                dropped[i] = Dropped("copied", "the key points of this question")
        _mark_crumbs(units, dropped)
    language = detect(graded)
    if language.is_english:  # the structure model knows English sentences only
        _mark_term_lists(units, dropped, lists_answer=asks_for_list(question))
    if beyond:
        units.append(Unit(len(graded), len(answer), answer[len(graded) :]))
        dropped.append(Dropped("too long"))
    return Screened(units, dropped, language)


def _within_limit(answer: str) -> tuple[str, bool]:
    """The part of the answer that is graded (cut at a space), and whether anything is left."""
    if len(answer) <= MAX_GRADED_CHARS:
        return answer, False
    cut = answer.rfind(" ", 0, MAX_GRADED_CHARS)
    return answer[: cut if cut > 0 else MAX_GRADED_CHARS], True


def _mark_crumbs(units: list[Unit], dropped: list[Dropped | None]) -> None:
    """A scrap too short to be a copy on its own (a line of code, a formula) that sits inside
    a copied passage, a copy on either side, belongs to that copy."""
    for i in range(1, len(units) - 1):
        before, after = dropped[i - 1], dropped[i + 1]
        if (
            dropped[i] is None
            and len(content_stems(units[i].text)) < CRUMB_STEMS
            and before is not None
            and before.reason == "copied"
            and after is not None
            and after.reason == "copied"
        ):
            dropped[i] = before


def repeating_prefix(text: str) -> int:
    """Where the answer's first copy ends when the whole answer is one block said again and
    again (any separator, the last copy possibly cut short); else len(text). The copies of a
    block joined without punctuation would otherwise split into new, merged sentences."""
    words = list(TOKEN_SPAN.finditer(text))[:-1]  # the last word may be cut short
    tokens = [m.group().lower() for m in words]
    n = len(tokens)
    if n < 4:
        return len(text)
    fail = [0] * n  # KMP failure function: the longest proper border of tokens[: i + 1]
    for i in range(1, n):
        k = fail[i - 1]
        while k and tokens[i] != tokens[k]:
            k = fail[k - 1]
        fail[i] = k + (tokens[i] == tokens[k])
    period = n - fail[-1]
    if period == n or n < 2 * period:
        return len(text)
    return words[period - 1].end()


def _mark_repeats(units: list[Unit], dropped: list[Dropped | None]) -> None:
    seen: list[set[str]] = []
    by_stem: dict[str, list[int]] = {}
    for i, unit in enumerate(units):
        if dropped[i] is not None:
            continue
        stems = set(content_stems(unit.text)) or {unit.text.strip().lower()}
        shared: Counter[int] = Counter(k for s in stems for k in by_stem.get(s, ()))
        if any(n / (len(stems) + len(seen[k]) - n) >= NEAR_DUPLICATE for k, n in shared.items()):
            dropped[i] = Dropped("repeated")
            continue
        seen.append(stems)
        for s in stems:
            by_stem.setdefault(s, []).append(len(seen) - 1)


def looks_like_code(text: str) -> bool:
    """Code is judged by running it, not as English: it is never a list of terms."""
    symbols = sum(c in "(){}[]=<>:;+*/%_" for c in text)
    return bool(CODE_START.match(text)) or symbols >= 0.08 * max(len(text), 1)


def _mark_term_lists(
    units: list[Unit], dropped: list[Dropped | None], *, lists_answer: bool
) -> None:
    """A long unit that reads as a term list earns nothing on its own. A short one may be a
    terse note ("decode becomes memory-bound"), so short units are judged together: when the
    answer as a whole reads as a list of terms (by the structure model's word-weighted mean,
    or because most of it is verbless phrases), all of it is a vocabulary dump."""
    model = load_structure_model()
    # The answer's form is judged on everything the candidate wrote once (copies included:
    # a dump with a few pasted phrases in it is still a dump); only open units are marked.
    prose = [
        i
        for i, d in enumerate(dropped)
        if (d is None or d.reason == "copied") and not looks_like_code(units[i].text)
    ]
    open_units = [i for i in prose if dropped[i] is None]
    words = {i: word_count(units[i].text) for i in prose}
    salad_p = {i: model.salad_probability(units[i].text) for i in prose}
    salad = [
        i for i in open_units if words[i] >= LONG_UNIT and model.is_salad(units[i].text, salad_p[i])
    ]
    if not lists_answer and _whole_dump(units, prose, words, salad_p, model.threshold):
        salad = open_units
    for i in salad:
        dropped[i] = Dropped("list of terms")


def _whole_dump(
    units: list[Unit],
    open_units: list[int],
    words: dict[int, int],
    salad_p: dict[int, float],
    threshold: float,
) -> bool:
    total = sum(words.values())
    if len(open_units) < 2 or total < DUMP_MIN_WORDS:
        return False
    mean = sum(words[i] * salad_p[i] for i in open_units) / total
    suspects = [
        i
        for i in open_units
        if is_phrase_list(units[i].text) or not _has_verb(units[i].text) or salad_p[i] >= threshold
    ]
    listed = sum(words[i] for i in suspects)
    return mean >= DUMP_MEAN or (len(suspects) >= DUMP_MIN_UNITS and listed >= DUMP_SHARE * total)


def is_phrase_list(text: str) -> bool:
    """Three or more comma-separated phrases, none with a verb: "KV cache, GQA, paging"."""
    parts = [p for p in LIST_SEPARATOR.split(text) if p.strip()]
    return len(parts) >= DUMP_MIN_UNITS and not _has_verb(text)


def _has_verb(text: str) -> bool:
    return any(is_verb(w) for w in WORD.findall(text))


def set_aside(screened: Screened, limit: int = 240) -> list[SetAside]:
    """The dropped parts for the grade record, repeats folded into one entry per sentence."""
    parts: list[SetAside] = []
    seen: set[tuple[str, str]] = set()
    for unit, drop in zip(screened.units, screened.dropped, strict=True):
        if drop is None or (drop.reason, unit.text) in seen:
            continue
        seen.add((drop.reason, unit.text))
        text = unit.text if len(unit.text) <= limit else unit.text[: limit - 1] + "…"
        parts.append(SetAside(reason=drop.reason, text=text, source=drop.source))
    return parts


def screen_notes(screened: Screened) -> list[str]:
    """What the candidate is told about the screen, most important first."""
    notes = [] if screened.language.is_english else [notice(screened.language)]
    injected = screened.with_reason("injected")
    if injected:
        notes.append(f'Ignored text addressed to the grader: "{_clip(injected[0][0].text)}"')
    sources = dict.fromkeys(d.source for _, d in screened.with_reason("copied"))
    for source in sources:
        first = next(u for u, d in screened.with_reason("copied") if d.source == source)
        notes.append(f'Copied from {source}, so it earns no credit: "{_clip(first.text)}"')
    repeats = len(screened.with_reason("repeated"))
    if repeats:
        notes.append(f"{repeats} repeated sentence(s) counted once: repeating adds nothing.")
    if screened.with_reason("too long"):
        notes.append(
            f"Only the first {MAX_GRADED_CHARS:,} characters were graded; the whole answer is "
            "saved."
        )
    terms = screened.with_reason("list of terms")
    if terms:
        notes.append(
            "This part reads as a list of terms, not an explanation, so it earns no credit: "
            f'"{_clip(terms[0][0].text)}"'
        )
    return notes


def _clip(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
