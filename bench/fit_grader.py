"""Fit the offline grader's calibration on the TRAINING splits of the shared datasets.

    .venv/bin/python bench/fit_grader.py            # writes bot/grading/calibration.json

SAF `training` and SciEntsBank `train` only; the unseen splits are never read here. Both sets
get equal total weight. The model is a logistic regression with an L2 penalty; its strength
(0.05) was chosen by question-grouped 5-fold cross-validation on those same training splits:
SciEntsBank train AUC 0.743 / 0.745 / 0.746 / 0.745 / 0.742 at 0.001 / 0.01 / 0.05 / 0.15 / 0.4
(SAF training Pearson 0.637 / 0.646 / 0.658 / 0.672 / 0.687). Stronger penalties raise SAF
Pearson only by squeezing every prediction towards the middle, which the interview scale cannot
take (labelled-set MAE 15.9 at 0.15).
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.grading.calibration import CALIBRATION_FILE, Calibration  # noqa: E402
from bot.grading.datasets import key_points_from_reference, read_csv  # noqa: E402
from bot.grading.evaluate import GENERIC_RUBRIC  # noqa: E402
from bot.grading.evidence import FEATURES, Evidence, gather  # noqa: E402
from bot.grading.offline import OfflineGrader  # noqa: E402

DATASETS = ROOT.parent / "shared" / "datasets"
TRAINING = (("saf_cn_english.csv", "training"), ("scientsbank_2way.csv", "train"))


def feature_matrix(file: str, split: str) -> tuple[np.ndarray, np.ndarray, list[Evidence]]:
    rows = read_csv(DATASETS / file, split=split)
    matrix, gathered = [], []
    for row in rows:
        evidence = gather(row.question, key_points_from_reference(row.reference), row.answer)
        matrix.append([evidence.features[name] for name in FEATURES])
        gathered.append(evidence)
    return np.array(matrix), np.array([r.score / 100 for r in rows]), gathered


def reference_scale_exponent(
    model: dict[str, object], parts: list[tuple[np.ndarray, np.ndarray, list[Evidence]]]
) -> float:
    """The exponent for grading against a reference answer (eval-grader's rubric): the one with
    the lowest mean absolute error on the training splits (equal weight per set), computed the
    way the grader scores a row (substance and clarity, weighted as in that rubric)."""
    calibration = Calibration(
        tuple(model["features"]),  # type: ignore[arg-type]
        tuple(model["mean"]),  # type: ignore[arg-type]
        tuple(model["std"]),  # type: ignore[arg-type]
        tuple(model["weights"]),  # type: ignore[arg-type]
        float(model["bias"]),  # type: ignore[arg-type]
        "fitting",
    )
    weights = {c.id: c.weight for c in GENERIC_RUBRIC.criteria}
    grid = np.round(np.arange(0.5, 2.01, 0.05), 2)
    errors = np.zeros(len(grid))
    for _, y, gathered in parts:
        for evidence, gold in zip(gathered, y, strict=True):
            predicted = calibration.predict(evidence.features)
            coverage = evidence.key_point_coverage(np.ones(len(evidence.support)))
            for n, exponent in enumerate(grid):
                substance = OfflineGrader._substance(evidence, predicted, coverage, exponent)
                clarity = OfflineGrader._clarity(evidence, substance)
                score = (weights["accuracy"] * substance + weights["clarity"] * clarity) / sum(
                    weights.values()
                )
                errors[n] += abs(score - gold) / len(y)
    return float(grid[int(errors.argmin())])


def fit(x: np.ndarray, y: np.ndarray, weight: np.ndarray, l2: float = 0.05) -> dict[str, object]:
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
    model["exponents"] = {GENERIC_RUBRIC.id: reference_scale_exponent(model, parts)}
    digest = hashlib.sha256(json.dumps(model, sort_keys=True).encode()).hexdigest()[:8]
    model["version"] = f"offline-{time.strftime('%Y%m%d')}-{digest}"
    model["trained_on"] = [
        f"{f}:{s} ({len(p[1])} rows)" for (f, s), p in zip(TRAINING, parts, strict=True)
    ]
    CALIBRATION_FILE.write_text(json.dumps(model, indent=2) + "\n")
    print(json.dumps(model, indent=2))
    print(f"fitted in {time.perf_counter() - began:.0f} s -> {CALIBRATION_FILE}")


if __name__ == "__main__":
    main()
