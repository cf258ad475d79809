"""The factual errors an interviewer's review found stay fixed (issue: content, second wave).

Each row names the file, text that must be there and text that must not: the LoRA alpha/r rule,
the retry amplification count, HBM bandwidth, keyed hashing of PII, merging a QLoRA adapter, the
persistence caveat of the two-stack queue, order without positional encodings, attention without
a KV cache.
"""

from __future__ import annotations

import re

import pytest

from bot.config import PROJECT_ROOT
from bot.content import load_bank

QB, KB = "question_bank/llm_deep_dive/", "kb/reference/"
FACTS = [
    (QB + "dd-lora-rank-alpha.yaml", r"fixes alpha instead of raising it", r"keep alpha / r fixed"),
    (KB + "dd-lora-rank-alpha.md", r"keeps it fixed while varying r", r"keep alpha / r fixed when"),
    ("kb/notes/c4-adaptation-and-retrieval.md", r"keeps\s+alpha fixed when it changes", None),
    (QB + "dd-rate-limits-retries.yaml", r"4\^3 = 64 calls", r"3 tries each (is|give) 27"),
    (KB + "dd-attention-complexity-long-context.md", r"3\.35 TB/s on an H100 SXM", None),
    (KB + "dd-attention-complexity-long-context.md", r"1\.6 TB/s on a 40 GB A100", None),
    (KB + "sd-guardrail-service.md", r"keyed\s+HMAC", r"log a plain SHA-256"),
    (KB + "dd-qlora-memory.md", r"dequantiz", None),
    (KB + "coding-queue-two-stacks.md", r"persistent", None),
    (KB + "dd-positional-encodings-rope.md", r"NoPE", None),
    (KB + "dd-kv-cache.md", r"O\(t\^2\) per step", None),
]


@pytest.mark.parametrize(("path", "must", "must_not"), FACTS)
def test_a_fixed_fact_stays_fixed(path: str, must: str, must_not: str | None) -> None:
    text = (PROJECT_ROOT / path).read_text(encoding="utf-8")
    assert re.search(must, text), f"{path} lost: {must}"
    if must_not is not None:
        assert not re.search(must_not, text), f"{path} says again: {must_not}"


def test_no_red_flag_of_the_lora_question_corrects_towards_constant_alpha_over_r() -> None:
    question = load_bank(PROJECT_ROOT).question("dd-lora-rank-alpha")
    for flag in question.red_flags:
        assert not re.search(r"keep alpha / r (fixed|constant)", flag.correction), flag.id
