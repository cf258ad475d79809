"""Train the sentence-structure model (bot/grading/structure.py) and write structure.json.

Real text: every unit of the kb (prose and bullets, no headings, code or tables), the bank's key
points and cues, the labelled answers, and the student answers of the public sets in
../shared/datasets (training splits only). Word salad: corruptions of those same units, so the
model learns shape, not topic: shuffled, sorted, content words only, content words glued with
random function words, noun-phrase runs joined by commas or "and", and sorted vocabulary dumps
of whole documents. Sources are split 80/20 by document (a hash of its name); the threshold is
the one that flags at most 1% of held-out real units.

    python train/structure.py            # ~1 min on 2 cores; prints held-out figures
"""

from __future__ import annotations

import json
import random
import re
import sys
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from scipy import sparse
from scipy.optimize import minimize

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import get_settings  # noqa: E402
from bot.content import load_bank  # noqa: E402
from bot.grading.evals.datasets import read_csv  # noqa: E402
from bot.grading.structure import (  # noqa: E402
    BUCKETS,
    DENSE,
    MIN_WORDS,
    MODEL_FILE,
    TOKEN,
    dense_features,
    sparse_features,
)
from bot.text import STOPWORDS, split_units  # noqa: E402

DATASETS = ROOT.parent / "shared" / "datasets"
TRAIN_SPLITS = {"saf_cn_english.csv": "training", "scientsbank_2way.csv": "train"}
GLUE = ["the", "of", "and", "is", "that", "a", "to", "in", "for", "with", "on", "are", "as", "by"]
L2 = 1.0
MAX_FALSE_FLAGS = 0.01


def kb_units(text: str) -> Iterator[str]:
    body = re.sub(r"\A---.*?\n---\n", "", text, flags=re.DOTALL)
    body = re.sub(r"```.*?```", "", body, flags=re.DOTALL)
    body = re.sub(r"<!--.*?-->", "", body)
    lines = [ln for ln in body.splitlines() if not ln.lstrip().startswith(("#", "|"))]
    yield from (u.text for u in split_units("\n".join(lines)))


def real_units() -> list[tuple[str, str]]:
    """(source, unit) pairs of real English."""
    bank = load_bank(get_settings().content_dir)
    found = [(f"kb:{i}", u) for i, doc in bank.docs.items() for u in kb_units(doc.body)]
    for q in bank.questions.values():
        found += [(f"q:{q.id}", t) for kp in q.key_points for t in (kp.text, *kp.cues)]
    for s in bank.labelled.values():
        found += [(f"l:{s.question}", u.text) for a in s.answers for u in split_units(a.text)]
    for name, split in TRAIN_SPLITS.items():
        for row in read_csv(DATASETS / name, split=split):
            found += [(f"d:{row.question_id}", u.text) for u in split_units(row.answer)]
    return [(src, u) for src, u in found if sum(t[0].isalnum() for t in TOKEN.findall(u)) >= 4]


def _words(text: str) -> list[str]:
    return [t for t in TOKEN.findall(text) if t[0].isalnum()]


def _content(words: list[str]) -> list[str]:
    return [w for w in words if w.lower() not in STOPWORDS]


def _runs(words: list[str]) -> list[list[str]]:
    runs: list[list[str]] = [[]]
    for w in words:
        if w.lower() in STOPWORDS:
            runs.append([])
        else:
            runs[-1].append(w)
    return [r for r in runs if r]


def _glued(rng: random.Random, words: list[str]) -> str:
    glue = rng.sample(GLUE, rng.randint(1, 6))
    rate = rng.choice([0.5, 0.8, 1.0])
    out: list[str] = []
    for w in _content(words):
        out.append(w)
        if rng.random() < rate:
            out.append(rng.choice(glue))
    return " ".join(out[:-1] if out and out[-1] in glue and rng.random() < 0.5 else out)


def _phrases(rng: random.Random, words: list[str]) -> str:
    joiner = rng.choice([", ", " and ", "; ", ", and ", " / "])
    return joiner.join(" ".join(r) for r in _runs(words))


CORRUPTIONS: dict[str, Callable[[random.Random, list[str]], str]] = {
    "shuffled": lambda rng, w: " ".join(rng.sample(w, len(w))),
    "sorted": lambda rng, w: " ".join(sorted(w, key=str.lower)),
    "content only": lambda rng, w: " ".join(_content(w)),
    "content shuffled": lambda rng, w: " ".join(rng.sample(_content(w), len(_content(w)))),
    "glued": _glued,
    "glued shuffled": lambda rng, w: _glued(rng, rng.sample(w, len(w))),
    "noun phrases": _phrases,
}


def dumps(rng: random.Random, units: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """Sorted or shuffled distinct vocabularies of whole sources, cut into unit-sized pieces."""
    by_source: dict[str, list[str]] = {}
    for src, u in units:
        by_source.setdefault(src, []).extend(_words(u))
    out = []
    for src, words in by_source.items():
        distinct = list(dict.fromkeys(w.lower() for w in words))
        ordered = sorted(distinct) if rng.random() < 0.5 else rng.sample(distinct, len(distinct))
        at = 0
        while at < len(ordered) - MIN_WORDS:
            n = rng.randint(6, 45)
            out.append((src, "dump", " ".join(ordered[at : at + n])))
            at += n
    return out


def examples(seed: int) -> list[tuple[str, str, str, int]]:
    """(source, family, text, is_salad) rows."""
    rng = random.Random(seed)
    real = real_units()
    rows = [(src, "real", u, 0) for src, u in real]
    names = list(CORRUPTIONS)
    for src, u in real:
        words = _words(u)
        family = rng.choice(names)
        text = CORRUPTIONS[family](rng, words)
        if len(_words(text)) >= MIN_WORDS and text.split() != u.split():
            rows.append((src, family, text, 1))
    rows += [(src, fam, text, 1) for src, fam, text in dumps(rng, real)]
    return rows


def matrix(texts: list[str]) -> sparse.csr_matrix:
    data, cols, ptr = [], [], [0]
    for text in texts:
        tokens = TOKEN.findall(text)
        counts: dict[int, float] = {}
        buckets = sparse_features(tokens)
        for b in buckets:
            counts[b] = counts.get(b, 0.0) + 1.0
        norm = 1 / np.sqrt(max(len(buckets), 1))
        for b, c in counts.items():
            cols.append(b)
            data.append(c * norm)
        for k, value in enumerate(dense_features(tokens)):
            cols.append(BUCKETS + k)
            data.append(value)
        ptr.append(len(cols))
    return sparse.csr_matrix((data, cols, ptr), shape=(len(texts), BUCKETS + len(DENSE)))


def fit(x: sparse.csr_matrix, y: np.ndarray) -> tuple[np.ndarray, float]:
    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = params[:-1], params[-1]
        z = x @ w + b
        p = 1 / (1 + np.exp(-z))
        nll = np.logaddexp(0, z) - y * z
        value = nll.mean() + L2 * (w @ w) / (2 * len(y))
        grad = np.append(x.T @ (p - y) / len(y) + L2 * w / len(y), (p - y).mean())
        return float(value), grad

    start = np.zeros(x.shape[1] + 1)
    result = minimize(loss, start, jac=True, method="L-BFGS-B", options={"maxiter": 400})
    return result.x[:-1], float(result.x[-1])


def held_out(source: str) -> bool:
    return zlib.crc32(source.encode()) % 5 == 0


def main() -> None:
    rows = examples(seed=7)
    train = [r for r in rows if not held_out(r[0])]
    test = [r for r in rows if held_out(r[0])]
    x = matrix([r[2] for r in train])
    y = np.array([r[3] for r in train], dtype=float)
    w, b = fit(x, y)
    p_test = 1 / (1 + np.exp(-(matrix([r[2] for r in test]) @ w + b)))
    real_p = np.sort(p_test[[r[3] == 0 for r in test]])
    threshold = float(real_p[int(len(real_p) * (1 - MAX_FALSE_FLAGS))])
    print(f"train {len(train)} rows, held out {len(test)}; threshold {threshold:.3f}")
    for family in ["real", *CORRUPTIONS, "dump"]:
        picked = [p for r, p in zip(test, p_test, strict=True) if r[1] == family]
        if picked:
            flagged = np.mean(np.array(picked) >= threshold)
            print(f"  {family:17s} n={len(picked):5d} flagged {100 * flagged:5.1f}%")
    model = {
        "sparse": {str(i): round(float(v), 5) for i, v in enumerate(w[:BUCKETS]) if abs(v) > 1e-4},
        "dense": [round(float(v), 5) for v in w[BUCKETS:]],
        "bias": round(b, 5),
        "threshold": round(threshold, 4),
        "trained_on": f"{len(train)} units (seed 7), {sum(r[3] for r in train)} of them salad",
    }
    MODEL_FILE.write_text(json.dumps(model, indent=0, sort_keys=True) + "\n")
    print(f"wrote {MODEL_FILE}")


if __name__ == "__main__":
    main()
