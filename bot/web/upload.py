"""Files attached to a chat message: a `.py` goes into the code editor, other text into the chat."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.interview.editor import MAX_CODE_CHARS, fenced
from bot.text import read_answer


@dataclass(frozen=True)
class Upload:
    name: str
    text: str

    @property
    def python(self) -> bool:
        return self.name.endswith(".py")

    def as_message(self) -> str:
        """How the file reads in the answer when it is not loaded into the editor."""
        return fenced(f"# {self.name}\n{self.text}") if self.python else self.text


async def read(element: Any) -> Upload | None:
    """The text of an attached file (its first MAX_CODE_CHARS bytes), or None when it has none."""
    path = getattr(element, "path", None)
    if not path:
        return None
    text = await asyncio.to_thread(_read_capped, Path(path))
    return Upload(getattr(element, "name", None) or "upload.py", text)


def _read_capped(path: Path) -> str:
    """Never more than the answer cap, whatever the file is (/dev/zero included)."""
    with path.open("rb") as stream:
        return read_answer(stream, errors="replace")[0][:MAX_CODE_CHARS]
