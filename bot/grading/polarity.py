"""Does a sentence say a statement, or its opposite? A rule-based stance check, no model.

Sentence embeddings put "a singly linked list is enough" and "a singly linked list is not enough"
side by side: they see the topic, not the claim. So once a unit of the answer has been matched to
a statement (a key point, a red flag), `stance` compares the two for the changes that turn a claim
into its opposite, the ones a candidate who has it backwards makes:

- negation, by scope (NegEx style): a word counts as negated when a negator ("not", "never",
  "without", "avoids", "rather than"...) comes shortly before it in the same clause, so "caching
  avoids recomputing" and "so they are not recomputed" agree, and "is enough" / "is not enough" do
  not;
- a denial frame around the claim ("it is a myth that", "contrary to what people think");
- an opposite swapped in for a word of the statement (faster/slower, before/after, keys/queries);
- different numbers in an otherwise matching sentence (27 calls where the statement says 64).

An odd number of flips, or a number conflict, is a contradiction. It is deliberately narrow: it
only ever compares two texts already matched on topic, and says nothing about anything else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.text import STOPWORDS, stem

# Opposites as a candidate would swap them (also the falsifier's antonym rule, train/falsify.py).
OPPOSITES: list[tuple[str, str]] = [
    ("faster", "slower"),
    ("increase", "decrease"),
    ("increases", "decreases"),
    ("increasing", "decreasing"),
    ("increased", "decreased"),
    ("before", "after"),
    ("more", "less"),
    ("higher", "lower"),
    ("linear", "quadratic"),
    ("larger", "smaller"),
    ("largest", "smallest"),
    ("better", "worse"),
    ("first", "last"),
    ("minimum", "maximum"),
    ("shortest", "longest"),
    ("shorter", "longer"),
    ("highest", "lowest"),
    ("most", "least"),
    ("always", "never"),
    ("true", "false"),
    ("correct", "incorrect"),
    ("stable", "unstable"),
    ("synchronous", "asynchronous"),
    ("sorted", "unsorted"),
    ("cheaper", "costlier"),
    ("consistent", "inconsistent"),
    ("safe", "unsafe"),
    ("early", "late"),
    ("fewer", "more"),
    ("add", "remove"),
    ("adds", "removes"),
    ("read", "write"),
    ("reads", "writes"),
    ("push", "pop"),
    ("left", "right"),
    ("small", "large"),
    ("low", "high"),
    ("rises", "falls"),
    ("grows", "shrinks"),
    ("helps", "hurts"),
    ("accept", "reject"),
    ("inside", "outside"),
    ("start", "end"),
    ("enable", "disable"),
    ("open", "close"),
    ("overestimate", "underestimate"),
    ("precision", "recall"),
    ("latency", "throughput"),
    ("ascending", "descending"),
    ("min", "max"),
    ("top", "bottom"),
    ("worst", "best"),
    ("keys", "queries"),
    ("encoder", "decoder"),
    ("compute-bound", "memory-bound"),
    ("underfitting", "overfitting"),
    ("bias", "variance"),
    ("increase", "reduce"),
    ("increases", "reduces"),
    ("raises", "lowers"),
    ("expands", "shrinks"),
    ("sooner", "later"),
    ("upper", "lower"),
    ("wider", "narrower"),
    ("dense", "sparse"),
    ("stateless", "stateful"),
    ("parallel", "sequential"),
    ("static", "dynamic"),
]
NEGATORS = {
    "not", "no", "never", "cannot", "without", "neither", "nor", "none", "nothing", "nobody",
    "avoid", "avoids", "avoided", "avoiding", "prevent", "prevents", "prevented", "lack",
    "lacks", "lacking", "instead", "rather", "unnecessary", "needless", "fails", "fail",
    "skip", "skips", "stop", "stops", "neednt", "dont", "doesnt", "isnt", "arent", "wasnt",
    "werent", "wont", "cant", "couldnt", "shouldnt", "wouldnt", "hasnt", "havent", "didnt",
}  # fmt: skip
SCOPE = 4  # a negator covers this many words after it, within its clause
CLAUSE = re.compile(r"[,;:.!?()]|\b(?:but|while|whereas|although|though|however|which)\b", re.I)
DENIAL = re.compile(
    r"\b(?:it\s+is|it's|that\s+is|this\s+is|that's|this\s+is\s+a)\s+(?:a\s+)?"
    r"(?:myth|misconception|false|untrue|not\s+true|wrong|incorrect|mistake)\b"
    r"|\b(?:myth|misconception|fallacy)\s+that\b|\bcontrary\s+to\b"
    r"|\bit\s+is\s+not\s+the\s+case\s+that\b|\b(?:people|some|many)\s+(?:wrongly|mistakenly)\b",
    re.IGNORECASE,
)
NUMBER_THEN_WORD = re.compile(r"(?<![\w.])(\d+(?:[.,]\d+)*(?:\.\d+)?)\s*([a-z][a-z/]*)")
WORD = re.compile(r"[a-z0-9][a-z0-9'-]*")
# A qualifier (fp16, int8, a100) at most three words after a figure and its unit: "94 gb in fp16"
FIGURE_CASE = re.compile(r"\d[\d.,]*\s*[a-z][a-z/]*\s+(?:[a-z]+\s+){0,3}?([a-z]+\d+[a-z0-9]*)\b")
_OPPOSITE: dict[str, set[str]] = {}
for _a, _b in OPPOSITES:
    _OPPOSITE.setdefault(stem(_a), set()).add(stem(_b))
    _OPPOSITE.setdefault(stem(_b), set()).add(stem(_a))
NUMBER_OVERLAP = 0.5  # share of the statement's content words a unit needs for a number clash
MAX_NUMBERS = 3  # a sentence with more figures than this lists them: no clash is read from it
ROUNDING = 0.1  # figures this close (relative) are the same figure rounded


Measures = dict[str, set[float]]  # figures by the stem of their unit or noun


@dataclass(frozen=True)
class Stance:
    contradicts: bool
    why: str = ""  # what changed, for the feedback: "negated 'enough'", "64 -> 27"


def _words(text: str) -> list[str]:
    return [w.replace("'", "") for w in WORD.findall(text.lower().replace("n't", " not"))]


def _negated(text: str) -> tuple[set[str], set[str]]:
    """(content stems said plainly, content stems a negator applies to). A negator applies to
    the first content word after it in its clause ("not recomputed", "avoids recomputing"), or,
    ending its clause, to the last one before it ("queries are not")."""
    plain: list[str] = []
    negated: set[str] = set()
    for clause in CLAUSE.split(text):
        pending = 0
        last: str | None = None
        for word in _words(clause or ""):
            if word in NEGATORS:
                pending = SCOPE
                continue
            if word not in STOPWORDS and len(word) > 1:
                token = stem(word)
                if pending:
                    negated.add(token)
                    pending = 0
                else:
                    plain.append(token)
                last = token
            else:
                pending = max(0, pending - 1)
        if pending and last is not None and last in plain:  # "..., queries are not."
            negated.add(last)
            plain.remove(last)
    return set(plain), negated


def stance(unit: str, statement: str) -> Stance:
    """Whether `unit` says the opposite of `statement` (both already matched on topic)."""
    u_plain, u_neg = _negated(unit)
    s_plain, s_neg = _negated(statement)
    u_all, s_all = u_plain | u_neg, s_plain | s_neg
    flips: list[str] = []
    shared = u_all & s_all
    turned = sorted(
        w
        for w in shared
        if (w in u_neg) != (w in s_neg) and _one_sided(w, u_plain, u_neg, s_plain, s_neg)
    )
    if turned:
        flips.append(f"negated '{turned[0]}'")
    u_any, s_any = _all_stems(unit), _all_stems(statement)  # "more"/"less" are stopwords
    for word in sorted(s_any - u_any):
        swapped = _OPPOSITE.get(word, set()) & (u_any - s_any)
        if swapped:
            flips.append(f"'{word}' -> '{min(swapped)}'")
    if bool(DENIAL.search(unit)) != bool(DENIAL.search(statement)):
        flips.append("denied")
    if len(flips) % 2 == 1:
        return Stance(True, flips[0])
    clash = _figures_clash(unit, statement, shared, s_all)
    return Stance(True, clash) if clash else Stance(False)


def _all_stems(text: str) -> set[str]:
    return {stem(w) for w in _words(text)}


def _one_sided(
    word: str, u_plain: set[str], u_neg: set[str], s_plain: set[str], s_neg: set[str]
) -> bool:
    """The word is only negated on one side (said both ways in a text, it decides nothing)."""
    in_unit = (word in u_plain, word in u_neg)
    in_statement = (word in s_plain, word in s_neg)
    return True not in (in_unit[0] and in_unit[1], in_statement[0] and in_statement[1])


def numbers_clash(unit: str, statement: str) -> str:
    """Other figures for the same thing: a number followed by the same word on both sides
    ("64 calls" against "27 calls"), with no figure of the statement for it in the unit."""
    u_plain, u_neg = _negated(unit)
    s_plain, s_neg = _negated(statement)
    s_all = s_plain | s_neg
    return _figures_clash(unit, statement, (u_plain | u_neg) & s_all, s_all)


def _figures_clash(unit: str, statement: str, shared: set[str], s_all: set[str]) -> str:
    """numbers_clash, with the content stems `stance` has already read."""
    if len(shared) < NUMBER_OVERLAP * len(s_all):
        return ""
    if _other_case(unit, statement):
        return ""  # "47 GB in int8" is not "94 GB in fp16" said wrong
    mine, theirs = measures(statement), measures(unit)
    if sum(len(v) for v in theirs.values()) > MAX_NUMBERS:
        return ""  # a list of figures (vocabulary sizes, error codes) is not one claim
    for word in sorted(mine.keys() & theirs.keys()):
        said, instead = mine[word], theirs[word]
        if not any(close(a, b) for a in said for b in instead):
            old, new = (", ".join(f"{v:g}" for v in sorted(vs)) for vs in (said, instead))
            return f"{old} -> {new} {word}"
    return ""


def _other_case(unit: str, statement: str) -> bool:
    """Each side qualifies its figures otherwise ("47 GB in int8" / "94 GB in fp16", "on an
    A100" / "on an H100"): the figures are for different cases, not one figure said two ways."""
    mine = set(FIGURE_CASE.findall(unit.lower()))
    theirs = set(FIGURE_CASE.findall(statement.lower()))
    return bool(mine - theirs) and bool(theirs - mine)


def measures(text: str) -> Measures:
    """Each figure of the text by the stem of the word that follows it (its unit or noun; a
    function word such as "of" or "and" names no unit)."""
    found: Measures = {}
    for match in NUMBER_THEN_WORD.finditer(text.lower()):
        if match[2] in STOPWORDS:
            continue
        try:
            value = float(match[1].replace(",", ""))
        except ValueError:
            continue
        found.setdefault(stem(match[2]), set()).add(value)
    return found


def close(a: float, b: float) -> bool:
    """The same figure, rounded differently (0.127 and 0.13 bits)."""
    return abs(a - b) <= ROUNDING * max(abs(a), abs(b))
