"""Train the answer verifier: a cross-encoder (key point, answer text) -> supports / contradicts /
unrelated, on all-MiniLM-L6-v2 dequantised from the packaged int8 ONNX (train/verifier_model.py).

Input: [CLS] key point [SEP] answer [SEP], at most MAX_LENGTH tokens (longest part cut first);
the class comes from the mean of the last layer over the tokens (the base model was trained for
mean pooling; its [CLS] carries no trained summary). Pairs come from train/verifier_data.py.
One thread (the machine is shared); run under `nice -n 10`.

    .venv-train/bin/python train/verifier.py check            # dequantised vs packaged ONNX
    .venv-train/bin/python train/verifier.py time             # seconds per 1,000 pairs
    nohup nice -n 10 .venv-train/bin/python train/verifier.py train --steps 1500 \
        > artifacts/train.log 2>&1 &
    .venv-train/bin/python train/verifier_eval.py ...          # held-out figures, ONNX export
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from verifier_model import (  # noqa: E402
    HIDDEN,
    CrossEncoder,
    Encoder,
    dequantised_weights,
    mean_pooled,
    onnx_model_path,
    tokenizer_path,
)

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"
LABELS = ("supports", "contradicts", "unrelated")
MAX_LENGTH = 160
Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def tokenizer() -> Tokenizer:
    tok = Tokenizer.from_file(str(tokenizer_path()))
    tok.no_padding()
    tok.enable_truncation(max_length=MAX_LENGTH, strategy="longest_first")
    return tok


def read_pairs(path: Path, split: str) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    return [r for r in rows if r["split"] == split]


def encode(tok: Tokenizer, rows: list[dict[str, str]]) -> Batch:
    """Token ids, mask and segment ids of (premise, answer) pairs, padded to the longest."""
    encodings = tok.encode_batch([(r["premise"], r["answer"]) for r in rows])
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(rows), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    for n, e in enumerate(encodings):
        ids[n, : len(e.ids)] = e.ids
        mask[n, : len(e.ids)] = 1
        types[n, : len(e.ids)] = e.type_ids
    return torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(types)


class Verifier(CrossEncoder):
    """The cross-encoder read from two poolings of the last layer: the mean over the pair's
    tokens (the base was trained for mean pooling; its [CLS] carries no trained summary) and the
    maximum over the answer's tokens, where one word that disagrees with the premise can show
    without being averaged away."""

    def __init__(self, classes: int) -> None:
        super().__init__(classes)
        self.head = torch.nn.Linear(2 * HIDDEN, classes)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(ids, mask, types)
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        mean = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1)
        answer = (types * mask).unsqueeze(-1).to(hidden.dtype)
        top = (hidden - (1.0 - answer) * 1e4).max(1).values
        return self.head(self.dropout(torch.cat([mean, top], -1)))  # type: ignore[no-any-return]


def base_verifier() -> Verifier:
    model = Verifier(len(LABELS))
    model.encoder.load_bert(dequantised_weights(onnx_model_path()))
    return model


def check(_: argparse.Namespace) -> None:
    """Cosine between the packaged ONNX model's sentence vectors and the torch model's, over
    sentences of kb/reference (the first prose sentence of every third document)."""
    import onnxruntime as ort

    sentences = kb_sentences(50)
    encoder = Encoder()
    encoder.load_bert(dequantised_weights(onnx_model_path()))
    encoder.eval()
    tok = Tokenizer.from_file(str(tokenizer_path()))
    tok.no_padding()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(onnx_model_path()), options)
    cosines = []
    for sentence in sentences:
        ids = np.array([tok.encode(sentence).ids], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": 0 * ids}
        packaged = session.run(None, feed)[0][0].mean(0)
        packaged /= np.linalg.norm(packaged)
        tensors = [torch.from_numpy(feed[k]) for k in ("input_ids", "attention_mask")]
        with torch.no_grad():
            ours = mean_pooled(encoder(*tensors, torch.zeros_like(tensors[0])), tensors[1])[0]
        cosines.append(float(packaged @ ours.numpy()))
    print(f"{len(cosines)} sentences: cosine min {min(cosines):.6f} mean {np.mean(cosines):.6f}")


def kb_sentences(count: int) -> list[str]:
    found: list[str] = []
    for path in sorted((ROOT / "kb" / "reference").glob("*.md")):
        body = path.read_text(encoding="utf-8").split("---", 2)[2]
        body = re.sub(r"```.*?```|<!--.*?-->", "", body, flags=re.DOTALL)
        body = re.sub(r"^#.*$", "", body, flags=re.MULTILINE)
        for sentence in re.split(r"(?<=[.!?])\s+", body):
            if 6 <= len(sentence.split()) <= 40:
                found.append(" ".join(sentence.split()))
                break
    return found[:: max(1, len(found) // count)][:count]


PUBLIC_SHARE = 0.25  # of the balanced draws: the bank makes ~90% of the pairs


def balanced_batches(
    rows: list[dict[str, str]], size: int, rng: random.Random
) -> Iterator[list[dict[str, str]]]:
    """Endless batches, each pair drawn with weight share(its source) / (count of its source
    kind and class): classes balanced, the public sets PUBLIC_SHARE of the draws."""
    kind = {r["source"]: ("bank" if r["source"] == "bank" else "public") for r in rows}
    counts = Counter((kind[r["source"]], r["label"]) for r in rows)
    share = {"bank": 1.0 - PUBLIC_SHARE, "public": PUBLIC_SHARE}
    weights = [share[kind[r["source"]]] / counts[(kind[r["source"]], r["label"])] for r in rows]
    while True:
        yield rng.choices(rows, weights=weights, k=size)


def contrast_batches(
    rows: list[dict[str, str]], size: int, rng: random.Random, point_share: float = 0.0
) -> Iterator[list[dict[str, str]]]:
    """Endless batches, half of them minimal pairs: a faithful bank text beside one of its own
    falsifications (the same words but one), so that the step sees exactly what differs; the
    other half drawn as in balanced_batches. `point_share` of the minimal pairs come from the
    key point vs passage pairs (groups with "#p" in their name, verifier_data.point_pairs)."""
    faithful = {r["group"]: r for r in rows if r["source"] == "bank" and r["label"] == "supports"}
    falsified: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        if r["label"] == "contradicts" and r["group"] in faithful:
            falsified.setdefault(r["group"], []).append(r)
    points = sorted(g for g in falsified if "#p" in g)
    windows = sorted(g for g in falsified if "#p" not in g)
    others = balanced_batches(rows, size - 2 * (size // 4), rng)
    while True:
        if point_share:
            draw = [points if rng.random() < point_share else windows for _ in range(size // 4)]
            chosen = [rng.choice(groups) for groups in draw]
        else:  # as run 1 drew them
            chosen = rng.sample(windows, size // 4)
        pairs = [x for g in chosen for x in (faithful[g], rng.choice(falsified[g]))]
        yield pairs + next(others)


def train_steps(model: Verifier, rows: list[dict[str, str]], args: argparse.Namespace) -> None:
    tok = tokenizer()
    rng = random.Random(args.seed)
    torch.manual_seed(args.seed)
    # The word table (30522 x 384) stays as it is: few pairs, and its update costs a third of a step
    model.encoder.word.weight.requires_grad_(False)
    trained = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(trained, lr=args.lr, weight_decay=0.01)
    warmup = max(1, args.steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser,
        lambda s: min((s + 1) / warmup, max(0.0, (args.steps - s) / (args.steps - warmup))),
    )
    model.train()
    started, losses, correct, seen = time.time(), [], 0, 0
    if args.contrast:
        batches = contrast_batches(rows, args.batch, rng, args.point_share)
    else:
        batches = balanced_batches(rows, args.batch, rng)
    for step, batch in enumerate(batches, start=1):
        target = torch.tensor([LABELS.index(r["label"]) for r in batch])
        logits = model(*encode(tok, batch))
        loss = torch.nn.functional.cross_entropy(logits, target)
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trained, 1.0)
        optimiser.step()
        schedule.step()
        losses.append(float(loss.detach()))
        correct += int((logits.argmax(-1) == target).sum())
        seen += len(batch)
        if step % args.log_every == 0 or step == args.steps:
            per_k = (time.time() - started) / seen * 1000
            print(
                f"step {step} loss {np.mean(losses[-args.log_every :]):.4f} "
                f"train-acc {correct / seen:.3f} s/1k-pairs {per_k:.1f}",
                flush=True,
            )
            correct = seen = 0
            started = time.time()
        if args.save_every and (step % args.save_every == 0 or step == args.steps):
            save(model, args.out, step)
        if step == args.steps:
            break


def save(model: Verifier, path: Path, step: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    torch.save({"step": step, "labels": LABELS, "state": model.state_dict()}, partial)
    os.replace(partial, path)


def load(path: Path) -> Verifier:
    model = Verifier(len(LABELS))
    saved = torch.load(path, map_location="cpu")
    model.load_state_dict(saved["state"])
    model.eval()
    return model


def train(args: argparse.Namespace) -> None:
    rows = read_pairs(args.pairs, "train")
    print("training pairs:", dict(Counter(r["label"] for r in rows)), flush=True)
    model = load(args.init) if args.init else base_verifier()
    train_steps(model, rows, args)


def timing(args: argparse.Namespace) -> None:
    """Seconds per 1,000 training pairs, from a few steps that are then thrown away."""
    args.steps, args.log_every, args.save_every = args.timing_steps, args.timing_steps, 0
    train_steps(base_verifier(), read_pairs(args.pairs, "train"), args)


def main() -> None:
    torch.set_num_threads(1)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["check", "time", "train"])
    parser.add_argument("--pairs", type=Path, default=ARTIFACTS / "pairs.jsonl")
    parser.add_argument("--out", type=Path, default=ARTIFACTS / "verifier.pt")
    parser.add_argument("--init", type=Path, help="start from this checkpoint, not the base")
    parser.add_argument("--contrast", action="store_true", help="half of each batch minimal pairs")
    parser.add_argument("--point-share", type=float, default=0.0, help="see contrast_batches")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--log-every", type=int, default=25)
    parser.add_argument("--save-every", type=int, default=100)
    parser.add_argument("--timing-steps", type=int, default=8)
    args = parser.parse_args()
    {"check": check, "time": timing, "train": train}[args.command](args)


if __name__ == "__main__":
    main()
