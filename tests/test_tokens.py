from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from bot import tokens

TEXTS = [
    "hello world",
    "",
    "The KV cache stores keys and values.\n\n  def f(x):\n    return x**2  # ok",
    "naïve café — 東京 🚀",
    "<|endoftext|> is special",
    "I'm sure they'll've done it",
]
URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"


@pytest.mark.parametrize(
    ("model", "counts"),
    [  # counted with tiktoken.get_encoding from a cache seeded with the same packaged files
        ("gpt-4o-mini", [2, 0, 21, 8, 9, 6]),
        ("gpt-4-turbo", [2, 0, 21, 11, 9, 8]),
    ],
)
def test_counts_match_tiktoken(model: str, counts: list[int]) -> None:
    assert [tokens.count_tokens(t, model) for t in TEXTS] == counts


@pytest.mark.parametrize("name", tokens.ENCODINGS)
def test_encodings_equal_tiktokens_own(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """tiktoken's registry, offline: its cache holds the packaged file under the URL's sha1."""
    import tiktoken

    cached = tmp_path / hashlib.sha1(URL.format(name=name).encode()).hexdigest()
    cached.write_bytes(tokens.packaged_bpe(name))
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    theirs, ours = tiktoken.get_encoding(name), tokens.encoding(name)
    assert ours.n_vocab == theirs.n_vocab and ours._special_tokens == theirs._special_tokens
    for text in TEXTS:
        assert ours.encode(text, disallowed_special=()) == theirs.encode(
            text, disallowed_special=()
        )
        assert ours.encode(text, allowed_special="all") == theirs.encode(
            text, allowed_special="all"
        )


def test_building_an_encoding_leaves_the_environment_alone() -> None:
    tokens.encoding.cache_clear()
    before = dict(os.environ)
    assert tokens.count_tokens("hello world", "gpt-4.1-mini") == 2
    assert dict(os.environ) == before


def test_truncation_keeps_the_first_tokens() -> None:
    text = "one two three four five six"
    kept, cut = tokens.truncate_tokens(text, 3)
    assert (kept, cut) == ("one two three", 3)
    assert tokens.truncate_tokens(text, 50) == (text, 0)
