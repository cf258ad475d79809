"""Fit the offline grader's calibration on the TRAINING splits of the shared datasets.

    .venv/bin/python bench/fit_grader.py            # writes bot/grading/calibration.json

SAF `training` and SciEntsBank `train` only; the unseen splits are never read here. Both sets
get equal total weight. The model is a logistic regression with an L2 penalty over four
features (evidence.FEATURES). Both were chosen by question-grouped 5-fold cross-validation on
those same training splits, as SAF Pearson (all answers / answers of 5 words or more) and
SciEntsBank AUC:
- features, by forward selection from the 16 the grader used to compute (penalty 0.05):
  aligned_recall alone 0.741 / 0.372 / 0.760; + novel_recall 0.745 / 0.400 / 0.765;
  + length_ratio 0.744 / 0.410 / 0.768; + copied 0.745 / 0.414 / 0.768. The next best
  (coverage_min) added 0.006 on 5+ words but took 0.001 of AUC, and later ones lowered the
  total; the 15 features before aligned_recall scored 0.714 / 0.325 / 0.746 together.
- penalty: 0.001 / 0.01 / 0.05 / 0.15 / 0.4 gave SAF 0.746 / 0.746 / 0.745 / 0.740 / 0.727,
  5 words or more 0.440 / 0.434 / 0.414 / 0.377 / 0.314, SciEntsBank 0.767 / 0.768 / 0.768 /
  0.767 / 0.762. Chosen: 0.01.
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

from bot.grading.calibration import CALIBRATION_FILE, Calibration, Scale  # noqa: E402
from bot.grading.evals.datasets import (  # noqa: E402
    ScoredAnswer,
    key_points_from_reference,
    read_csv,
)
from bot.grading.evals.evaluate import GENERIC_RUBRIC  # noqa: E402
from bot.grading.evidence import FEATURES, Evidence, gather  # noqa: E402
from bot.grading.offline import OfflineGrader  # noqa: E402

DATASETS = ROOT.parent / "shared" / "datasets"
TRAINING = (("saf_cn_english.csv", "training"), ("scientsbank_2way.csv", "train"))


def feature_matrix(rows: list[ScoredAnswer]) -> tuple[np.ndarray, np.ndarray, list[Evidence]]:
    matrix, gathered = [], []
    for row in rows:
        evidence = gather(row.question, key_points_from_reference(row.reference), row.answer)
        matrix.append([evidence.features[name] for name in FEATURES])
        gathered.append(evidence)
    return np.array(matrix), np.array([r.score / 100 for r in rows]), gathered


def as_calibration(model: dict[str, object]) -> Calibration:
    return Calibration(
        tuple(model["features"]),  # type: ignore[arg-type]
        tuple(model["mean"]),  # type: ignore[arg-type]
        tuple(model["std"]),  # type: ignore[arg-type]
        tuple(model["weights"]),  # type: ignore[arg-type]
        float(model["bias"]),  # type: ignore[arg-type]
        "fitting",
    )


def scores(
    calibration: Calibration, gathered: list[Evidence], scales: list[Scale]
) -> list[np.ndarray]:
    """Each Scale's scores (0..1) for the gathered rows, computed the way the grader scores a
    row against a reference answer: substance and clarity, weighted as in that rubric."""
    weights = {c.id: c.weight for c in GENERIC_RUBRIC.criteria}
    unscaled = Scale(1.0, 0.0)
    gated, plain = [], []
    for evidence in gathered:
        predicted = calibration.predict(evidence.features)
        coverage = evidence.key_point_coverage(np.ones(len(evidence.support)))
        gated.append(OfflineGrader._substance(evidence, predicted, coverage, unscaled))
        plain.append(OfflineGrader._clarity(evidence, 1.0))
    out = []
    for scale in scales:
        substance = np.array([scale(g) for g in gated])
        clarity = np.minimum(plain, 2 * substance)
        total = weights["accuracy"] * substance + weights["clarity"] * clarity
        out.append(total / sum(weights.values()))
    return out


def reference_scale(
    model: dict[str, object], parts: list[tuple[np.ndarray, np.ndarray, list[Evidence]]]
) -> Scale:
    """The Scale for grading against a reference answer (eval-grader's rubric): the one with
    the highest Pearson correlation on the training splits whose scores are graded (SAF),
    computed the way the grader scores a row (substance and clarity, weighted as in that
    rubric). SciEntsBank's 0/1 labels cannot say what a score of 60 means: the lowest error
    on them pushes every score to 0 or 100 (slope 2.5, the end of the grid, and SAF training
    Pearson 0.727 instead of 0.750)."""
    calibration = as_calibration(model)
    grid = [
        Scale(round(slope, 2), round(shift, 2))
        for slope in np.arange(0.5, 2.51, 0.1)
        for shift in np.arange(-1.5, 1.51, 0.1)
    ]
    fit = np.zeros(len(grid))
    for _, y, gathered in parts:
        if set(np.unique(y)) <= {0.0, 1.0}:
            continue
        for n, score in enumerate(scores(calibration, gathered, grid)):
            fit[n] += np.corrcoef(score, y)[0, 1]
    return grid[int(fit.argmax())]


def fit(x: np.ndarray, y: np.ndarray, weight: np.ndarray, l2: float = 0.01) -> dict[str, object]:
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
    parts = [feature_matrix(read_csv(DATASETS / f, split=s)) for f, s in TRAINING]
    x = np.vstack([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    weight = np.concatenate([np.full(len(p[1]), 1 / len(p[1])) for p in parts])
    model = fit(x, y, weight)
    scale = reference_scale(model, parts)
    model["scales"] = {GENERIC_RUBRIC.id: [scale.slope, scale.shift]}
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
