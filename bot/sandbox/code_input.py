"""Find the candidate's code in a chat message.

Rules, in order:

1. Fenced blocks (``` or ~~~, any fence length, closed or running to the end of the message).
   Blocks tagged python, py, python3 or py3 come first; untagged blocks count only when no tagged
   one does, and only if they parse as Python (so a block of sample output is not taken as code).
   Blocks in other languages (text, bash, json, ...) never count, nor do empty ones.
   Among the blocks that count, the last one that defines the entry point wins; when none defines
   it, the last one. So "my solution, then a usage example" picks the solution, and a corrected
   version posted after a first attempt replaces it.
2. With no fenced block at all, a bare message counts when the whole of it parses as Python and
   defines the entry point at top level (any function or class when no entry point is given).
   Prose practically never parses, so a plain-text answer is never mistaken for code.
3. Otherwise Markdown's indented code blocks (lines indented by four spaces or a tab, after a
   blank line): the last one that parses and defines the entry point. So an explanation with its
   code indented, as Markdown writes it, is graded with its code.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass

PYTHON_TAGS = frozenset({"python", "py", "python3", "py3"})
INDENT = re.compile(r"^(?: {4}|\t)")
FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\s`]*)[^`]*$")


@dataclass(frozen=True)
class Block:
    language: str  # lower-cased first word of the info string, "" when untagged
    code: str


def extract_code(text: str, *, entry_point: str | None = None) -> str | None:
    """The code to run from a chat message, or None when it holds none (rules above)."""
    blocks = [b for b in fenced_blocks(text) if b.code.strip()]
    tagged = [b.code for b in blocks if b.language in PYTHON_TAGS]
    untagged = [b.code for b in blocks if b.language == "" and _parses(b.code)]
    chosen = tagged or untagged
    if chosen:
        defining = [code for code in chosen if _defines(code, entry_point)]
        return (defining or chosen)[-1]
    if blocks:  # fenced blocks in other languages: the message is not bare code
        return None
    bare = textwrap.dedent(text).strip("\n")
    if bare.strip() and _parses(bare) and _defines(bare, entry_point):
        return bare + "\n"
    indented = [c for c in indented_blocks(text) if _parses(c) and _defines(c, entry_point)]
    return indented[-1] if indented else None


def indented_blocks(text: str) -> list[str]:
    """Markdown's indented code blocks of a message, in order, dedented."""
    blocks: list[list[str]] = []
    inside, blank_before = False, True
    for line in text.splitlines():
        indented = bool(INDENT.match(line)) and bool(line.strip())
        if inside and (indented or not line.strip()):
            blocks[-1].append(line)
        elif indented and blank_before:
            blocks.append([line])
            inside = True
        else:
            inside = False
        blank_before = not line.strip()
    dedented = (textwrap.dedent("\n".join(lines)).strip("\n") for lines in blocks)
    return [code + "\n" for code in dedented if code]


def fenced_blocks(text: str) -> list[Block]:
    """Every fenced block of a Markdown message, in order, dedented."""
    lines, blocks, i = text.splitlines(), [], 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        i += 1
        if opening is None:
            continue
        fence, body = opening["fence"], []
        while i < len(lines) and not _closes(lines[i], fence):
            body.append(lines[i])
            i += 1
        i += 1
        code = textwrap.dedent("\n".join(body)).strip("\n")
        blocks.append(Block(opening["info"].lower(), code + "\n" if code else ""))
    return blocks


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return len(stripped) >= len(fence) and set(stripped) == {fence[0]}


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _defines(code: str, entry_point: str | None) -> bool:
    """Whether `code` defines `entry_point` (or any function or class) at top level."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    names = {node.name for node in tree.body if isinstance(node, kinds)}
    return bool(names) if entry_point is None else entry_point in names
