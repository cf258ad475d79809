"""The offline grader's calibration: a logistic model over evidence features.

Fitted by `bench/fit_grader.py` on the training splits of the shared human-scored datasets only
(never on the splits that are reported), and stored as data in calibration.json.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")


@dataclass(frozen=True)
class Scale:
    """A monotone map of 0..1 onto a rubric's scale: the log-odds are stretched by `slope` after
    moving the midpoint by `shift`. It keeps every ranking and only changes what a score means."""

    slope: float
    shift: float

    def __call__(self, value: float) -> float:
        if value <= 0 or value >= 1:
            return min(max(value, 0.0), 1.0)
        odds = math.log(value / (1 - value))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, self.slope * (odds - self.shift)))))


@dataclass(frozen=True)
class Calibration:
    features: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    version: str
    # Per rubric id, the Scale that maps the calibrated score onto that rubric's scale;
    # rubrics not listed use the interview scale (offline.INTERVIEW_SCALE).
    scales: tuple[tuple[str, Scale], ...] = ()

    def scale_for(self, rubric_id: str, default: Scale) -> Scale:
        return dict(self.scales).get(rubric_id, default)

    def predict(self, values: dict[str, float]) -> float:
        """Probability-like substance score in 0..1."""
        z = self.bias + sum(
            w * (values[name] - m) / s
            for name, m, s, w in zip(self.features, self.mean, self.std, self.weights, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@lru_cache(maxsize=1)
def load_calibration(path: Path = CALIBRATION_FILE) -> Calibration:
    data = json.loads(path.read_text(encoding="utf-8"))
    return Calibration(
        tuple(data["features"]),
        tuple(data["mean"]),
        tuple(data["std"]),
        tuple(data["weights"]),
        float(data["bias"]),
        str(data["version"]),
        tuple((str(k), Scale(*map(float, v))) for k, v in sorted(data.get("scales", {}).items())),
    )
