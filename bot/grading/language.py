"""Which language an answer is written in: English, or another one the grader cannot read.

The graders compare answers with English key points, so an answer in French scores near zero
whatever it says. This module tells them apart by function words, which every language has and
technical terms do not change ("le cache KV stocke les clés" keeps "KV" and "cache" but its
function words are French), and by script for languages not written in Latin letters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.text import STOPWORDS

# Function words frequent in each language and rare as English words or code identifiers.
FUNCTION_WORDS: dict[str, frozenset[str]] = {
    name: frozenset(words.split())
    for name, words in {
        "French": "le la les des du une est sont et que qui dans pour avec sur pas plus nous "
        "vous ils elles cette ces leur mais donc car aussi très être avoir fait peut entre sans "
        "chaque lorsque quand où alors ainsi",
        "German": "der die das den dem des ein eine einen ist sind und nicht mit für auf auch "
        "wird werden wir ihr sie es zu von bei aus nach wenn dass oder aber wie noch nur kann "
        "können sich diese dieser jede durch",
        "Spanish": "el la los las del una es son y que en para con por como más pero sus se "
        "esto esta este cuando donde también muy puede pueden entre sin cada sobre hay ser",
        "Italian": "il lo la le gli dei della delle degli una è sono e che di con non più ma come "
        "anche questo questa quando dove molto può possono tra senza ogni sul nel",
        "Portuguese": "o os as da das do dos uma é são e que em para com não mais mas como "
        "também isso este esta quando onde muito pode podem entre sem cada pelo pela",
        "Dutch": "de het een van en is zijn niet met voor op ook wordt worden wij jij zij dat "
        "die als maar hoe nog kan kunnen dit deze bij uit naar omdat",
    }.items()
}
WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
MIN_WORDS = 6
ENGLISH = "English"


@dataclass(frozen=True)
class Language:
    name: str
    share: float  # share of the answer's words that voted for it

    @property
    def is_english(self) -> bool:
        return self.name == ENGLISH


def detect(text: str) -> Language:
    """English unless another language's function words (or a non-Latin script) dominate."""
    letters = [c for c in text if c.isalpha()]
    non_latin = sum(ord(c) > 0x24F for c in letters) / max(len(letters), 1)
    if len(letters) >= 10 and non_latin > 0.3:
        return Language("a language not written in Latin letters", round(non_latin, 3))
    words = [w.lower() for w in WORD.findall(text)]
    if len(words) < MIN_WORDS:
        return Language(ENGLISH, 1.0)
    english = sum(w in STOPWORDS for w in words)
    votes = {
        name: sum(w in vocab and w not in STOPWORDS for w in words)
        for name, vocab in FUNCTION_WORDS.items()
    }
    best = max(votes, key=lambda name: votes[name])
    distinct = {w for w in words if w in FUNCTION_WORDS[best] and w not in STOPWORDS}
    if len(distinct) >= 3 and votes[best] > english:
        return Language(best, round(votes[best] / len(words), 3))
    return Language(ENGLISH, round(english / len(words), 3))


def notice(language: Language) -> str:
    return (
        f"This answer reads as {language.name}. Answers are graded in English: the score below "
        "counts only what could be matched in English. Answer in English for a fair grade."
    )
