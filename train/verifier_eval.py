"""Export the trained verifier to ONNX (fp32, then dynamic int8 with onnxruntime's quantizer) and
measure both on the held-out bank questions, one pair per run on one thread, as the app would.

Figures: recall of each class and the confusion table; contradicts recall on falsified texts at a
fixed false-contradiction rate on their faithful originals (the threshold on P(contradicts) that
flags that share of faithful texts); how often a falsified text gets a higher P(contradicts) than
the text it came from; latency per pair; file sizes.

    .venv-train/bin/python train/verifier_eval.py --checkpoint artifacts/verifier.pt
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from verifier import ARTIFACTS, LABELS, encode, load, read_pairs, tokenizer  # noqa: E402

FALSE_RATES = (0.05, 0.10, 0.20)
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def export(checkpoint: Path, fp32: Path, int8: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = load(checkpoint)
    sample = encode(tokenizer(), [{"premise": "a key point", "answer": "an answer sentence"}])
    axes = {name: {0: "batch", 1: "tokens"} for name in INPUTS}
    torch.onnx.export(
        model,
        sample,
        str(fp32),
        input_names=list(INPUTS),
        output_names=["logits"],
        dynamic_axes={**axes, "logits": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    quantize_dynamic(fp32, int8, per_channel=True, weight_type=QuantType.QInt8)


def session(path: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def probabilities(
    model: ort.InferenceSession, rows: list[dict[str, str]]
) -> tuple[np.ndarray, float]:
    """Class probabilities per pair, and the median seconds per pair."""
    tok = tokenizer()
    out, times = [], []
    for row in rows:
        feed = {k: v.numpy() for k, v in zip(INPUTS, encode(tok, [row]), strict=True)}
        started = time.perf_counter()
        logits = model.run(None, feed)[0][0]
        times.append(time.perf_counter() - started)
        exp = np.exp(logits - logits.max())
        out.append(exp / exp.sum())
    return np.array(out), float(np.median(times))


def figures(rows: list[dict[str, str]], probs: np.ndarray) -> dict[str, object]:
    truth = [LABELS.index(r["label"]) for r in rows]
    guess = probs.argmax(1)
    confusion = Counter((LABELS[t], LABELS[g]) for t, g in zip(truth, guess, strict=True))
    recall = {
        label: round(confusion[(label, label)] / max(1, truth.count(n)), 3)
        for n, label in enumerate(LABELS)
    }
    contra = probs[:, LABELS.index("contradicts")]
    faithful = np.array([r["label"] == "supports" for r in rows])
    falsified = np.array([r["label"] == "contradicts" for r in rows])
    at_rate = {}
    for rate in FALSE_RATES:
        threshold = float(np.quantile(contra[faithful], 1 - rate))
        at_rate[f"recall@{rate:.0%}FCR"] = round(float((contra[falsified] > threshold).mean()), 3)
    by_rule: dict[str, list[bool]] = defaultdict(list)
    threshold = float(np.quantile(contra[faithful], 0.9))
    for row, p in zip(rows, contra, strict=True):
        if row["label"] == "contradicts":
            by_rule[row["kind"]].append(bool(p > threshold))
    return {
        "pairs": len(rows),
        "accuracy": round(float(np.mean(guess == np.array(truth))), 3),
        "recall": recall,
        "confusion(true->predicted)": {f"{t}->{g}": c for (t, g), c in sorted(confusion.items())},
        "contradicts_vs_faithful": at_rate,
        "recall@10%FCR_by_rule": {k: round(float(np.mean(v)), 3) for k, v in by_rule.items()},
        "falsified_above_its_original": paired(rows, contra),
    }


def paired(rows: list[dict[str, str]], contra: np.ndarray) -> float | None:
    original = {
        r["group"]: p for r, p in zip(rows, contra, strict=True) if r["label"] == "supports"
    }
    wins = [
        float(p > original[r["group"]])
        for r, p in zip(rows, contra, strict=True)
        if r["label"] == "contradicts" and r["group"] in original
    ]
    return round(float(np.mean(wins)), 3) if wins else None


def public_auc(model: ort.InferenceSession, folder: Path) -> dict[str, float]:
    """ROC AUC of P(supports) against the 2-way label on SciEntsBank's unseen splits (the
    README in the datasets folder lists the untrained graders' figures on the same splits)."""
    with (folder / "scientsbank_2way.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    found = {}
    for split in ("test-unseen-answers", "test-unseen-questions"):
        chosen = [r for r in rows if r["split"] == split]
        pairs = [{"premise": r["reference_answer"], "answer": r["answer"]} for r in chosen]
        probs, _ = probabilities(model, pairs)
        truth = np.array([float(r["score"]) == float(r["max_score"]) for r in chosen])
        found[split] = round(roc_auc(probs[:, LABELS.index("supports")], truth), 3)
    return found


def roc_auc(score: np.ndarray, truth: np.ndarray) -> float:
    ranks = np.argsort(np.argsort(score)) + 1.0
    positives, negatives = truth.sum(), (~truth).sum()
    return float((ranks[truth].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def main() -> None:
    torch.set_num_threads(1)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", type=Path, default=ARTIFACTS / "verifier.pt")
    parser.add_argument("--pairs", type=Path, default=ARTIFACTS / "pairs.jsonl")
    parser.add_argument("--out", type=Path, default=ARTIFACTS / "verifier-eval.json")
    parser.add_argument("--datasets", type=Path, help="also SciEntsBank's unseen splits (int8)")
    parser.add_argument("--limit", type=int, default=0, help="every Nth held-out pair (a dry run)")
    args = parser.parse_args()
    fp32, int8 = ARTIFACTS / "verifier-fp32.onnx", ARTIFACTS / "verifier-int8.onnx"
    export(args.checkpoint, fp32, int8)
    rows = read_pairs(args.pairs, "heldout")[:: args.limit or 1]
    report: dict[str, object] = {"step": torch.load(args.checkpoint)["step"]}
    for name, path in (("fp32", fp32), ("int8", int8)):
        probs, latency = probabilities(session(path), rows)
        report[name] = {
            **figures(rows, probs),
            "median_ms_per_pair": round(latency * 1000, 2),
            "size_mb": round(path.stat().st_size / 1e6, 1),
        }
        np.save(ARTIFACTS / f"heldout-probs-{name}.npy", probs)
    if args.datasets:
        report["scientsbank_2way_auc_int8"] = public_auc(session(int8), args.datasets)
    args.out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
