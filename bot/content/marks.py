"""Key-point marks in kb/ Markdown: `<!-- key_points: kp-a, kp-b -->` after the passage that
explains those key points. The one place that reads or removes them."""

from __future__ import annotations

import re

MARK = re.compile(r"<!--\s*key_points:\s*(?P<ids>[^>]*?)\s*-->")


def marked_ids(text: str) -> list[str]:
    """The key point ids marked in `text`, in order (repeats kept)."""
    return [
        kp
        for match in MARK.finditer(text)
        for kp in (part.strip() for part in match["ids"].split(","))
        if kp
    ]


def strip_marks(text: str) -> str:
    """`text` without its marks (they are HTML comments, invisible once rendered)."""
    return MARK.sub("", text)


def first_marks(body: str, first_line: int) -> dict[str, int]:
    """Key point id -> the line number of its first mark; `body` starts at `first_line`."""
    lines: dict[str, int] = {}
    for number, line in enumerate(body.splitlines(), start=first_line):
        for kp in marked_ids(line):
            lines.setdefault(kp, number)
    return lines
