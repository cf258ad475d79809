"""The code editor's side of an answer: the starter text it opens with, and its code in the answer.

The editor's code is kept apart from the chat draft (`Current.code`) and joins the answer as the
last fenced Python block, so the rules of `bot.sandbox.code_input` run it in preference to code
pasted in the chat earlier, and a second Run or Submit replaces it instead of adding a copy.
"""

from __future__ import annotations

import re

from bot.content import Question

INDENT = "    "  # what Tab inserts in the browser editor (bot/web/room.py sends it there)
MAX_CODE_CHARS = 200_000  # the most of an editor's or an uploaded file's code that is kept
CODE_CUT = (
    f"Your code passed the {MAX_CODE_CHARS:,}-character limit: the first {MAX_CODE_CHARS:,} "
    "characters are kept and the rest was not saved."
)
_BACKTICKS = re.compile(r"`{3,}")


def starter_code(question: Question) -> str:
    """The editor's text when a coding question opens: the signature, ready for a body."""
    if question.coding is None:
        return ""
    signature = question.coding.signature.rstrip()
    if "\n" not in signature and signature.endswith(":"):
        return f"{signature}\n{INDENT}"
    return signature + "\n"


def written_code(question: Question, code: str) -> str:
    """The part of `code` that is the candidate's: empty when it is the untouched starter."""
    code = code[:MAX_CODE_CHARS]
    if not code.strip() or code.strip() == starter_code(question).strip():
        return ""
    return code.rstrip() + "\n"


def fenced(code: str) -> str:
    """`code` as a Markdown python block whose fence no line of the code can close."""
    longest = max((len(m) for m in _BACKTICKS.findall(code)), default=2)
    fence = "`" * (longest + 1)
    return f"{fence}python\n{code.rstrip()}\n{fence}"
