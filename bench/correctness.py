"""Does the offline grade follow what is true, not only the topic? (issue #15 targets)

    python bench/correctness.py              # every figure below, on the current grader
    python bench/correctness.py --half fit   # the hard set's `fit` half (the default reports `report`)

- falsified references: bench/data/falsified/ (hand-written, never trained on): mean score of the
  falsified texts against the faithful paraphrases (target <= 60%; faithful keep >= 90% of the
  reference's own score);
- the hard labelled set: bench/labelled-hard/ (scored before any grader saw it), one half:
  Spearman with the human scores, and the means of fluent-but-wrong and strong answers;
- "It is a myth that <key point>" bullets: mean score (target <= 20);
- the old labelled set: Spearman (bench/labelled/, target >= 0.86).

With --run-code, answers are graded as the product grades them: a coding answer's code runs the
question's hidden tests and bounds in the sandbox, and the results cap the grade (without it, as
the figures above were first measured, the text alone).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from statistics import mean

import yaml
from scipy.stats import spearmanr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.content import load_bank  # noqa: E402
from bot.content.models import LabelledSet  # noqa: E402
from bot.grading.coding import grade_answer  # noqa: E402
from bot.grading.offline import OfflineGrader  # noqa: E402

FALSIFIED = ROOT / "bench" / "data" / "falsified"
HARD = ROOT / "bench" / "labelled-hard"
OLD = ROOT / "bench" / "labelled"
HALF_ROW = re.compile(r"^\|\s*([a-z0-9-]+)\s*\|\s*(fit|report)\s*\|", re.M)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--half", default="report", choices=["fit", "report", "all"])
    parser.add_argument("--run-code", action="store_true", help="run coding answers' code")
    options = parser.parse_args()
    half, run_code = options.half, options.run_code
    bank = load_bank(ROOT)
    grader = OfflineGrader(bank=bank)
    as_own = OfflineGrader(bank=bank, detect_copies=False)  # the reference, graded as if written

    def score(qid: str, text: str) -> float:
        q = bank.question(qid)
        if run_code:  # as the product grades: the code runs its hidden tests and bounds
            return grade_answer(grader, q, bank.rubric(q.rubric), text).score
        return grader.grade(q, bank.rubric(q.rubric), text).score

    def reference_score(qid: str, text: str) -> float:
        q = bank.question(qid)
        return as_own.grade(q, bank.rubric(q.rubric), text).score

    falsified(bank, score, reference_score)
    hard(score, half)
    myths(bank, score)
    old(score)


def falsified(bank: object, score: object, reference_score: object) -> None:
    ratios, faithful_keep, f_scores, t_scores = [], [], [], []
    for path in sorted(FALSIFIED.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        qid = data["question"]
        reference = bank.docs[bank.question(qid).reference].body  # type: ignore[attr-defined]
        ref = reference_score(qid, reference)  # type: ignore[operator]
        faithful = mean(score(qid, f["text"]) for f in data["faithful"])  # type: ignore[operator]
        wrong = mean(score(qid, f["text"]) for f in data["falsified"])  # type: ignore[operator]
        t_scores.append(faithful)
        f_scores.append(wrong)
        ratios.append(wrong / faithful if faithful else 0.0)
        faithful_keep.append(faithful / ref if ref else 0.0)
    print(f"falsified references ({len(ratios)} questions): faithful mean {mean(t_scores):.1f}, "
          f"falsified mean {mean(f_scores):.1f}; falsified/faithful {100 * mean(ratios):.0f}% "
          f"(target <= 60%); faithful/reference {100 * mean(faithful_keep):.0f}% (>= 90%)")


def _halves() -> dict[str, str]:
    return dict(HALF_ROW.findall((HARD / "README.md").read_text(encoding="utf-8")))


def hard(score: object, half: str) -> None:
    halves = _halves()
    human, graded, by_kind = [], [], {}
    for path in sorted(HARD.glob("*.yaml")):
        data = LabelledSet.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        if half != "all" and halves.get(data.question) != half:
            continue
        for answer in data.answers:
            got = score(data.question, answer.text)  # type: ignore[operator]
            human.append(answer.score)
            graded.append(got)
            by_kind.setdefault(answer.id.split("-")[0] if answer.id.startswith("fluent") else answer.id, []).append(got)
    rho = spearmanr(human, graded).statistic
    kinds = ", ".join(f"{k} {mean(v):.0f}" for k, v in sorted(by_kind.items()))
    print(f"hard set, {half} half ({len(human)} answers): Spearman {rho:.3f} (target >= 0.75); "
          f"means by type: {kinds} (fluent-wrong <= 40, strong >= 80)")


def myths(bank: object, score: object) -> None:
    scores = []
    for q in list(bank.questions.values()):  # type: ignore[attr-defined]
        if q.kind == "coding":
            continue
        text = "\n".join(f"- It is a myth that {kp.text[0].lower()}{kp.text[1:]}" for kp in q.key_points)
        scores.append(score(q.id, text))  # type: ignore[operator]
    print(f"'It is a myth that <key point>' bullets ({len(scores)} questions): mean "
          f"{mean(scores):.1f} (target <= 20)")


def old(score: object) -> None:
    human, graded = [], []
    for path in sorted(OLD.glob("*.yaml")):
        data = LabelledSet.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        for answer in data.answers:
            human.append(answer.score)
            graded.append(score(data.question, answer.text))  # type: ignore[operator]
    print(f"old labelled set ({len(human)} answers): Spearman "
          f"{spearmanr(human, graded).statistic:.3f} (target >= 0.86)")


if __name__ == "__main__":
    main()
