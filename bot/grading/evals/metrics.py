"""Agreement between a grader and human scores (all on the 0-100 scale)."""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import pearsonr, rankdata, spearmanr


def _finite(value: float) -> float | None:
    return None if value is None or math.isnan(value) else round(float(value), 4)


def pearson(pred: list[float], gold: list[float]) -> float | None:
    if len(pred) < 2 or np.std(pred) == 0 or np.std(gold) == 0:
        return None
    return _finite(pearsonr(pred, gold)[0])


def spearman(pred: list[float], gold: list[float]) -> float | None:
    if len(pred) < 2 or np.std(pred) == 0 or np.std(gold) == 0:
        return None
    return _finite(spearmanr(pred, gold)[0])


def mae(pred: list[float], gold: list[float]) -> float | None:
    if not pred:
        return None
    return round(float(np.mean(np.abs(np.asarray(pred) - np.asarray(gold)))), 3)


def to_bins(scores: list[float], bins: int = 5) -> np.ndarray:
    """0-100 onto 0..bins-1 in equal-width bins (100 falls in the top bin)."""
    bins_of: np.ndarray = np.minimum(
        (np.asarray(scores, dtype=float) / 100 * bins).astype(int), bins - 1
    )
    return bins_of


def qwk(pred: list[float], gold: list[float], bins: int = 5) -> float | None:
    """Quadratic weighted kappa over `bins` equal-width score bins."""
    if not pred:
        return None
    a, b = to_bins(pred, bins), to_bins(gold, bins)
    observed = np.zeros((bins, bins))
    for i, j in zip(a, b, strict=True):
        observed[i, j] += 1
    expected = np.outer(observed.sum(1), observed.sum(0)) / len(a)
    weights = np.array([[(i - j) ** 2 for j in range(bins)] for i in range(bins)]) / (bins - 1) ** 2
    denominator = (weights * expected).sum()
    return None if denominator == 0 else _finite(1 - (weights * observed).sum() / denominator)


def roc_auc(pred: list[float], labels: list[int]) -> float | None:
    """Probability that a positive outranks a negative (ties count half)."""
    positives = sum(labels)
    negatives = len(labels) - positives
    if not positives or not negatives:
        return None
    ranks = rankdata(pred)
    rank_sum = sum(r for r, y in zip(ranks, labels, strict=True) if y)
    return _finite((rank_sum - positives * (positives + 1) / 2) / (positives * negatives))


def agreement(pred: list[float], gold: list[float], *, binary: bool) -> dict[str, float | None]:
    table: dict[str, float | None] = {
        "n": len(pred),
        "pearson": pearson(pred, gold),
        "spearman": spearman(pred, gold),
        "qwk": qwk(pred, gold),
        "mae": mae(pred, gold),
    }
    if binary:
        table["auc"] = roc_auc(pred, [int(g >= 50) for g in gold])
    return table
