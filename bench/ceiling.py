"""How far better cross-question calibration could lift the offline grader on unseen questions.

    .venv/bin/python bench/ceiling.py               # ~40 s; TRAINING splits only

The unseen-question targets pool answers to questions the model never saw. A pooled figure
mixes two things: how well answers are ranked within each question, and how well one
question's scores line up with another's. This script measures both on the training splits
with question-grouped 5-fold cross-validation (each fold fitted on the other folds' questions,
exactly as `bench/fit_grader.py` fits the shipped model, scale included):

- `pooled`: the figure as the unseen-question targets compute it.
- `within`: the mean per-question Pearson (questions with 4+ answers and varied scores; on
  SciEntsBank's 0/1 labels that is the point-biserial correlation).
- `question_means_r`: how well the mean score per question follows the human mean.
- `oracle_offset` / `oracle_linear`: the pooled figure after moving (or moving and
  stretching) each question's scores to fit that question's human scores. These use the
  labels being scored, so no grader can reach them: they bound what any per-question
  calibration could add to the evidence the grader has.

SAF figures are Pearson over all answers and over answers of 5 words or more; SciEntsBank's
are ROC AUC.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fit_grader import (  # noqa: E402
    DATASETS,
    TRAINING,
    as_calibration,
    feature_matrix,
    fit,
    reference_scale,
    scores,
)

from bot.grading.evals.datasets import read_csv  # noqa: E402
from bot.grading.evals.metrics import roc_auc  # noqa: E402

FOLDS = 5


def folds(groups: list[str]) -> np.ndarray:
    names = sorted(set(groups))
    np.random.RandomState(0).shuffle(names)
    fold = {name: n % FOLDS for n, name in enumerate(names)}
    return np.array([fold[g] for g in groups])


def figure(score: np.ndarray, y: np.ndarray) -> float:
    if set(np.unique(y)) <= {0.0, 1.0}:
        return float(roc_auc(list(score), [int(v) for v in y]) or 0.0)
    return float(np.corrcoef(score, y)[0, 1])


def oracle(score: np.ndarray, y: np.ndarray, groups: np.ndarray, stretch: bool) -> np.ndarray:
    """Each question's scores fitted to its own human scores by least squares."""
    moved = score.copy()
    for g in np.unique(groups):
        m = groups == g
        if stretch and score[m].std() > 0:
            a = np.c_[score[m], np.ones(m.sum())]
            moved[m] = a @ np.linalg.lstsq(a, y[m], rcond=None)[0]
        else:
            moved[m] = score[m] - score[m].mean() + y[m].mean()
    return moved


def within(score: np.ndarray, y: np.ndarray, groups: np.ndarray) -> float:
    rs = [
        np.corrcoef(score[m], y[m])[0, 1]
        for m in (groups == g for g in np.unique(groups))
        if m.sum() > 3 and y[m].std() > 0 and score[m].std() > 0
    ]
    return float(np.mean(rs))


def question_means_r(score: np.ndarray, y: np.ndarray, groups: np.ndarray) -> float:
    keys = np.unique(groups)
    means = [(score[groups == g].mean(), y[groups == g].mean()) for g in keys]
    return float(np.corrcoef(np.array(means).T)[0, 1])


def describe(score: np.ndarray, y: np.ndarray, groups: np.ndarray) -> dict[str, float]:
    return {
        "pooled": figure(score, y),
        "within": within(score, y, groups),
        "question_means_r": question_means_r(score, y, groups),
        "oracle_offset": figure(oracle(score, y, groups, stretch=False), y),
        "oracle_linear": figure(oracle(score, y, groups, stretch=True), y),
    }


def main() -> None:
    rows = [read_csv(DATASETS / f, split=s) for f, s in TRAINING]
    parts = [feature_matrix(rs) for rs in rows]
    groups = [np.array([r.question_id for r in rs]) for rs in rows]
    fold = [folds(list(gs)) for gs in groups]
    predicted = [np.zeros(len(gs)) for gs in groups]
    for k in range(FOLDS):
        kept = [
            (px[f != k], py[f != k], [e for e, t in zip(pe, f != k, strict=True) if t])
            for (px, py, pe), f in zip(parts, fold, strict=True)
        ]
        model = fit(
            np.vstack([p[0] for p in kept]),
            np.concatenate([p[1] for p in kept]),
            np.concatenate([np.full(len(p[1]), 1 / len(p[1])) for p in kept]),
        )
        scale = reference_scale(model, kept)
        for (_, _, gathered), f, out in zip(parts, fold, predicted, strict=True):
            held = [e for e, h in zip(gathered, f == k, strict=True) if h]
            out[f == k] = scores(as_calibration(model), held, [scale])[0]
    report = {}
    for (file, split), score, (_, gold, _), gs, rs in zip(
        TRAINING, predicted, parts, groups, rows, strict=True
    ):
        report[f"{file}:{split}"] = describe(score, gold, gs)
        long = np.array([len(r.answer.split()) >= 5 for r in rs])
        if not set(np.unique(gold)) <= {0.0, 1.0}:
            report[f"{file}:{split} (5+ words)"] = describe(score[long], gold[long], gs[long])
    rounded = {k: {m: round(v, 3) for m, v in d.items()} for k, d in report.items()}
    print(json.dumps(rounded, indent=2))


if __name__ == "__main__":
    main()
