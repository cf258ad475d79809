"""Fit the offline grader's calibration on the TRAINING splits of the shared datasets.

    .venv/bin/python bench/fit_grader.py            # writes bot/grading/calibration.json

SAF `training` and SciEntsBank `train` only; the unseen splits are never read here. Both sets
get equal total weight. The model is a logistic regression with a small L2 penalty.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.grading.calibration import CALIBRATION_FILE  # noqa: E402
from bot.grading.datasets import key_points_from_reference, read_csv  # noqa: E402
from bot.grading.evidence import FEATURES, gather  # noqa: E402

DATASETS = ROOT.parent / "shared" / "datasets"
TRAINING = (("saf_cn_english.csv", "training"), ("scientsbank_2way.csv", "train"))


def feature_matrix(file: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    rows = read_csv(DATASETS / file, split=split)
    matrix = []
    for row in rows:
        evidence = gather(row.question, key_points_from_reference(row.reference), row.answer)
        matrix.append([evidence.features[name] for name in FEATURES])
    return np.array(matrix), np.array([r.score / 100 for r in rows])


def fit(x: np.ndarray, y: np.ndarray, weight: np.ndarray, l2: float = 1e-2) -> dict[str, object]:
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = np.c_[(x - mean) / std, np.ones(len(x))]

    def loss(w: np.ndarray) -> float:
        p = np.clip(1 / (1 + np.exp(-(z @ w))), 1e-6, 1 - 1e-6)
        ce = -(weight * (y * np.log(p) + (1 - y) * np.log(1 - p))).sum() / weight.sum()
        return float(ce + l2 * (w[:-1] ** 2).sum())

    w = minimize(loss, np.zeros(z.shape[1]), method="L-BFGS-B").x
    return {
        "features": list(FEATURES),
        "mean": mean.round(6).tolist(),
        "std": std.round(6).tolist(),
        "weights": w[:-1].round(6).tolist(),
        "bias": round(float(w[-1]), 6),
    }


def main() -> None:
    began = time.perf_counter()
    parts = [feature_matrix(f, s) for f, s in TRAINING]
    x = np.vstack([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    weight = np.concatenate([np.full(len(p[1]), 1 / len(p[1])) for p in parts])
    model = fit(x, y, weight)
    model["version"] = "offline-" + time.strftime("%Y%m%d")
    model["trained_on"] = [
        f"{f}:{s} ({len(p[1])} rows)" for (f, s), p in zip(TRAINING, parts, strict=True)
    ]
    CALIBRATION_FILE.write_text(json.dumps(model, indent=2) + "\n")
    print(json.dumps(model, indent=2))
    print(f"fitted in {time.perf_counter() - began:.0f} s -> {CALIBRATION_FILE}")


if __name__ == "__main__":
    main()
