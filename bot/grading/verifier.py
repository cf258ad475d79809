"""The trained answer verifier: does a piece of an answer support a reference passage,
contradict it, or talk about something else?

A cross-encoder (all-MiniLM-L6-v2 fine-tuned by train/verifier.py, int8 ONNX, model card in
docs/verifier-model-card.md) reads `[CLS] premise [SEP] answer [SEP]`, where the premise is a key
point followed by the kb passage that states it. It ships in `models/verifier/` beside its
`config.json` (class order, token limit, and where the tokenizer comes from: the same packaged
tokenizer as the sentence embeddings). Nothing is downloaded. The session is made on first use,
one per process, with one thread: the grader runs it beside other work.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from bot.errors import ModelMissingError
from bot.knowledge.embeddings import _package_file

MODEL_DIR = Path(__file__).resolve().parent / "models" / "verifier"
BATCH = 16  # pairs per run: longer batches pad more than they save


@dataclass(frozen=True)
class Verdict:
    """Probabilities of the three readings of one (premise, answer) pair; they sum to 1."""

    supports: float
    contradicts: float
    unrelated: float

    @property
    def label(self) -> str:
        scores = {"supports": self.supports, "contradicts": self.contradicts}
        return max({**scores, "unrelated": self.unrelated}.items(), key=lambda kv: kv[1])[0]


class _Model:
    def __init__(self, folder: Path) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        config_path, model_path = folder / "config.json", folder / "model.onnx"
        if not config_path.is_file() or not model_path.is_file():
            raise ModelMissingError(f"the verifier model is not in {folder}")
        config = json.loads(config_path.read_text(encoding="utf-8"))
        self.labels: list[str] = config["labels"]
        tokenizer = config["tokenizer"]
        self.tokenizer = Tokenizer.from_file(
            str(_package_file(tokenizer["package"], tokenizer["path"]))
        )
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=config["max_tokens"], strategy="longest_first")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self.lock = threading.Lock()

    def run(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """Class probabilities, one row per pair, columns in `self.labels` order."""
        encodings = self.tokenizer.encode_batch([(p, a) for p, a in pairs])
        width = max(len(e.ids) for e in encodings)
        feed: dict[str, Any] = {
            name: np.zeros((len(pairs), width), dtype=np.int64)
            for name in ("input_ids", "attention_mask", "token_type_ids")
        }
        for row, e in enumerate(encodings):
            feed["input_ids"][row, : len(e.ids)] = e.ids
            feed["attention_mask"][row, : len(e.ids)] = 1
            feed["token_type_ids"][row, : len(e.ids)] = e.type_ids
        with self.lock:
            logits = self.session.run(None, feed)[0]
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs: np.ndarray = exp / exp.sum(axis=1, keepdims=True)
        return probs


@lru_cache(maxsize=1)
def _model() -> _Model:
    return _Model(MODEL_DIR)


def judge(pairs: Sequence[tuple[str, str]]) -> list[Verdict]:
    """A verdict for each (premise, answer text) pair, in order."""
    model = _model()
    column = {label: n for n, label in enumerate(model.labels)}
    verdicts: list[Verdict] = []
    for start in range(0, len(pairs), BATCH):
        for row in model.run(pairs[start : start + BATCH]):
            verdicts.append(
                Verdict(
                    supports=float(row[column["supports"]]),
                    contradicts=float(row[column["contradicts"]]),
                    unrelated=float(row[column["unrelated"]]),
                )
            )
    return verdicts
