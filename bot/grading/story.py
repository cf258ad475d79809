"""Whether a behavioral answer tells what the candidate did, or explains a subject.

A behavioral question asks for a story: what you (or your team) faced, did, decided and learnt. A
technical explanation, however good and however many numbers it quotes, is not one; the key-point
closeness alone cannot tell the two apart, because stories may be about any technical subject.

The share of the answer's sentences that narrate separates them: told in the first person and
the past tense ("I split the launch", "we were paged"), or in the present of a story told live
when the sentence also puts people or a scene of work in it ("I ask the team", "my manager
wants the launch next week"). Technical answers written in the first person speak in the present
of a design, with no one else in it ("I share one semaphore"). Measured on the bank (2026-12-06):
the 20 behavioral references 0.38-0.70; the 35 hand-scored stories 0.33-1.00 (two non-answers
scored 4 and 5: 0); the 287 technical references 0 up to the 75th percentile, the highest 0.17,
the same with or without the present-tense scenes.
"""

from __future__ import annotations

import re
from collections import Counter

from bot.text import Unit

# "I" only as a capital: a lowercase i is a loop variable in an explanation of code.
FIRST_PERSON = re.compile(r"\bI\b|(?i:\b(?:we|my|our|me|us|myself|ourselves)\b)")
PAST_WORDS = (
    "was were had did made took got went told said saw found ran led built wrote gave chose knew "
    "thought felt kept left met paid sent spent understood began brought bought caught fell grew "
    "held lost rose sat spoke stood taught won became came drove broke ago"
).split()
PAST = re.compile(r"\b(?:\w+ed|" + "|".join(PAST_WORDS) + r")\b", re.IGNORECASE)
# People, scenes of work and times that a story has and a design does not ("customers",
# "clients", "then" and "so I" are left out: technical answers use them in the present).
SCENE = re.compile(
    r"(?i:\b(?:team|teammates?|managers?|(?:my|our|tech|team)\s+lead|leadership|stakeholders?"
    r"|colleagues?|peers?|mentees?|mentor|boss|director|he|she|him|her|his|meeting|deadline"
    r"|sprint|convince[sd]?|persuade[sd]?|escalate[sd]?|push\s+back)\b)"
    r"|\b(?:VP|PM|CEO|CTO|CFO)\b"  # capitals only: "pm" is a time of day
    # ...or the time of a story: what happened when, not how a design behaves
    r"|(?i:\b(?:overnight|yesterday|within\s+the\s+hour|that\s+(?:day|night|week|morning)"
    r"|the\s+(?:same|next)\s+(?:day|night|week|morning)|last\s+(?:week|month|quarter|year)"
    r"|(?:an\s+hour|\w+\s+(?:days|weeks|months))\s+later)\b)"
)
MIN_WORDS = 4  # shorter units (headings, list labels) are not sentences of a story
# A lead-in of FRAME_WORDS words or more that starts FRAME_MIN sentences, and FRAME_SHARE of them,
# is a frame put before them, not part of what they narrate.
FRAME_WORDS, FRAME_MIN, FRAME_SHARE = 3, 3, 0.3
STORY_START, STORY_FULL = 0.10, 0.30  # narrated share: no credit at the first, full from the second


def narrated_share(units: list[Unit]) -> float:
    """The share of sentences (MIN_WORDS words or more) that narrate: first person, and the past
    tense or a scene with other people in it."""
    sentences = _unframed([u.text for u in units if len(u.text.split()) >= MIN_WORDS])
    if not sentences:
        return 0.0
    return sum(1 for s in sentences if _narrates(s)) / len(sentences)


def _unframed(sentences: list[str]) -> list[str]:
    """The sentences with a lead-in they repeat taken off: "On my team we say that ..." or "I
    learned that ..." put before every sentence of an explanation frames it; it tells nothing."""
    leads = Counter(_lead(s) for s in sentences)
    lead, count = leads.most_common(1)[0] if leads else ("", 0)
    if count < max(FRAME_MIN, FRAME_SHARE * len(sentences)):
        return sentences
    framed = [s.split() for s in sentences if _lead(s) == lead]
    width = FRAME_WORDS
    while all(len(w) > width and w[width].lower() == framed[0][width].lower() for w in framed):
        width += 1  # the whole lead-in they share
    words = [re.escape(w) for w in framed[0][:width]]
    frame = re.compile(r"\s+".join(words), re.IGNORECASE)  # wherever it stands
    return [" ".join(frame.sub(" ", s).split()) for s in sentences]


def _lead(sentence: str) -> str:
    return " ".join(sentence.split()[:FRAME_WORDS]).lower()


def _narrates(sentence: str) -> bool:
    return bool(FIRST_PERSON.search(sentence)) and bool(
        PAST.search(sentence) or SCENE.search(sentence)
    )


def story_factor(units: list[Unit]) -> float:
    """1.0 for an answer told as a story, falling to 0 for an impersonal explanation."""
    share = narrated_share(units)
    return min(max((share - STORY_START) / (STORY_FULL - STORY_START), 0.0), 1.0)


def story_note(factor: float) -> list[str]:
    """What the candidate is told when the answer is not told as their story."""
    if factor >= 1.0:
        return []
    return [
        "This reads as an explanation, not a story: a behavioral answer is scored on what you "
        "did, decided and learnt in a real situation (tell it in the first person)."
    ]
