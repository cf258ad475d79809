"""Files attached to a chat message: a `.py` goes into the code editor, other text into the chat."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.interview.editor import MAX_CODE_CHARS, fenced


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
    raw = await asyncio.to_thread(Path(path).read_bytes)
    text = raw[:MAX_CODE_CHARS].decode("utf-8", "replace")
    return Upload(getattr(element, "name", None) or "upload.py", text)
