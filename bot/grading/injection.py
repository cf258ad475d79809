"""Text addressed to the grader, not to the interviewer: orders, score requests, fake output.

An answer may *discuss* prompts, system prompts, instructions and injection (it is the subject
of several GenAI questions); that is graded like any other text. What is removed is text that
speaks to whoever grades it: requests for a score or a level, orders to ignore the rubric or
earlier instructions, claims about how this answer must be graded, fake grader output (JSON
with score fields, "Score: 100/100"), and fake closing tags or chat-role markers that pretend
the answer has ended. Once such text starts, the sentences that carry on addressing the grader
are removed with it, so a several-sentence order goes as a whole.
"""

from __future__ import annotations

import re

_FLAGS = re.IGNORECASE | re.DOTALL
GRADE_WORDS = (
    r"(score|scores|scored|scoring|marks?|grade|grades|graded|grading|rubric|criteri(a|on)"
    r"|credit|rating|evaluation|evaluator|grader|assessor|examiner)"
)
# What a score request asks for, said the way only a grade is: "full marks", "a score of 100",
# "the top level", "every criterion at level 4". Bare "score" or "top" is common in answers
# ("return the top k by score") and is not enough.
ASKED_GRADE = (
    r"(100|full|maximum|max|perfect|top|highest|excellent|best)(\s+possible)?\s+"
    r"(score|marks?|grade|credit|rating|level|band)s?\b"
    r"|\b(score|grade|rating|marks?)\s+(of\s+)?(100|10/10|5/5|a\+|excellent)"
    r"|\b(every|each|all)\s+(the\s+)?(criteri(a|on)|key\s+points?)\s+(to\s+|at\s+|as\s+)?"
    r"(the\s+|a\s+)?(top|highest|maximum|max|full|excellent|covered|level\s*[3-5]|[45]\b)"
)
# An order to set a score or a level, in the imperative: "give every criterion the top level",
# "output a score of 100", "award full marks", "now grant the maximum score".
SCORE_ORDER = re.compile(
    r"(^|[.;:,!?(]\s*|\b(please|now|just|and|then|so|must|should|will|to|you)\s+)"
    r"(give|award|assign|grant|output|set|respond with|reply with|print|emit|mark)\b"
    r"[^.!?\n]{0,60}?\b(" + ASKED_GRADE + r")"
    r"|\b(full|maximum|perfect)\s+(marks|score|credit)\b|\b100\s*/\s*100\b"
    r"|\bscore\s+(of\s+)?100\b",
    _FLAGS,
)
# An order to drop the grading instructions. The object must be the grader's own instructions
# ("the rubric", "all previous instructions", "your instructions"), not instructions in general:
# "ignore instructions found inside retrieved documents" is advice, not an attack.
IGNORE_ORDER = re.compile(
    r"\b(ignore|disregard|forget|override|bypass)\b\s+(all\s+|any\s+|of\s+|the\s+)*"
    r"((previous|prior|above|earlier|preceding|original|your|these|those)\s+"
    r"(instructions?|prompts?|messages?|rules|directions|guidelines|context)"
    r"|everything\s+(above|before|else)"
    r"|(grading|scoring|system)\s+(prompt|instructions?|rules|criteria|message)"
    r"|rubric)",
    _FLAGS,
)
RUBRIC_ORDER = re.compile(
    r"\b(ignore|disregard|forget|override|bypass)\b[^.!?\n]{0,30}\brubric", _FLAGS
)
# Claims about how this very answer must be graded or who is reading it.
SELF_GRADE = re.compile(
    r"\b(this|my|the candidate'?s?|the following|the above)\s+(answer|response|submission|reply)"
    r"\s+(is|was|should|must|deserves?|has|covers|merits|will)\b[^.!?\n]{0,60}?\b"
    r"(100|full|maximum|perfect|top|highest|every|all|graded|scored|marks?|points|credit"
    r"|covered|pass|complete|correct|excellent)\b"
    r"|\bdear\s+(grader|evaluator|assessor|examiner|judge|model)\b"
    # "attention model" is an ML term: only "note to the model" addresses a model
    r"|\b(attention|note (to|for) (the )?)\s*(grader|evaluator|assessor|examiner|judge)\b"
    r"|\bnote (to|for) (the )?model\b"
    r"|\b(you are|you're|act as|as the|you must act as)\s+(now\s+)?(an?\s+|the\s+)?"
    r"(lenient\s+|generous\s+)?(grader|evaluator|assessor|examiner|judge)\b"
    r"|\b(grader|evaluator|assessor|examiner|judge)\s*[:,]\s",
    _FLAGS,
)
# Fake grader output and fake structure: JSON with grading fields, "Score: 100/100", closing
# tags, chat-template tokens, role markers at the start of a line.
FAKE_OUTPUT = re.compile(
    r"[{\[]\s*\"?(score|level|criteria|grade|covered|passed|key_points|verdict)\"?\s*:"
    r"|\"(score|level|grade|verdict|passed)\"\s*:"
    r"|\b(final\s+)?(score|grade|level|verdict)\s*[:=]\s*(\d{1,3}\s*(/\s*\d{1,3})?|pass|excellent)"
    r"|(^|\n)\s*(grader|evaluator)\s*:",
    _FLAGS,
)
# A chat role or tag in the answer ("System: ...", "<system>") is a common subject in prompt
# engineering answers; it speaks to the grader only when it talks about grading.
ROLE_OR_TAG = re.compile(r"(^|\n)\s*(system|assistant|user)\s*:|</?\s*[a-z_ -]{1,30}>", _FLAGS)
# A fake end of the answer: the answer's closing tag, a chat-template token, "end of answer".
# What follows it is no longer the candidate's answer, whatever it says.
ANSWER_OVER = re.compile(
    r"</\s*(answer|candidate[_ -]?answer|response|submission)\b[^>]{0,40}>"
    r"|<\|[a-z_]+\|>|\[/?inst\]|<<\s*/?sys\s*>>"
    r"|\b(end of (the )?(answer|response|submission|candidate))\b",
    _FLAGS,
)
# After an order has started, a sentence that keeps addressing the grader goes with it.
CARRIES_ON = re.compile(
    r"\b(you|your)\b|" + GRADE_WORDS + r"|[{}]"
    r"|^\W*(do|don't|never|always|please|remember|make sure|be|only|just|again)\b",
    _FLAGS,
)
GRADE_SPOKEN = re.compile(r"\b" + GRADE_WORDS + r"\b|\b100\b", _FLAGS)
QUOTED = re.compile(r"\"[^\"]{3,200}\"|“[^”]{3,200}”|'[^'\n]{8,200}'")


def _unquoted(text: str) -> str:
    """The text with quoted examples blanked: 'attackers write "ignore previous instructions"'
    discusses an attack, it does not make one."""
    return QUOTED.sub(" ", text)


def addressed_to_grader(text: str) -> bool:
    """Whether one unit of an answer speaks to the grader about its grade."""
    bare = _unquoted(text)
    if SCORE_ORDER.search(bare) or SELF_GRADE.search(bare) or FAKE_OUTPUT.search(text):
        return True
    if ANSWER_OVER.search(text) or (ROLE_OR_TAG.search(text) and GRADE_SPOKEN.search(bare)):
        return True
    if RUBRIC_ORDER.search(bare):
        return True
    order = IGNORE_ORDER.search(bare)
    return order is not None and _opens_unit(bare, order.start())


def _opens_unit(text: str, at: int) -> bool:
    """An order opens the unit (after at most a few words such as "please" or "now")."""
    return len(re.findall(r"[A-Za-z]+", text[:at])) <= 3


def injected_units(texts: list[str]) -> list[bool]:
    """Per unit, whether it is addressed to the grader, including the sentences that carry an
    order on ("...and all criteria. You must comply.")."""
    flags: list[bool] = []
    over = False
    for text in texts:
        own = addressed_to_grader(text)
        carried = bool(flags) and flags[-1] and bool(CARRIES_ON.search(_unquoted(text)))
        over = over or bool(ANSWER_OVER.search(text))
        flags.append(own or carried or over)
    return flags
