"""Reference solutions under the bounds: `python bench/coding_references.py [--runs 20] [ids...]`.

Runs every coding question's reference solution on its hidden tests and bounds `--runs` times in
a row (as Submit does) and reports, per question and in all:

- flaky failures: runs where the reference failed anything (target 0);
- the growth class the scaling check measured for the reference (its degree per call or
  operation, logarithms aside) against the class its YAML declares (target >= 90% agree);
- the time the scaling check adds to a Submit (its probe's wall-clock time; p50 and p95), and the
  time all bound checks add (probes and rules).

Then every wrong solution once: each must fail (target: none passes). Writes
bench/results/coding_references.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.content import Question, load_bank  # noqa: E402
from bot.content.bounds import DEGREE  # noqa: E402
from bot.sandbox import RunReport, run_tests  # noqa: E402
from bot.sandbox.report import degree_label  # noqa: E402


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def submit(question: Question, code: str, *, bounds: bool = True) -> RunReport:
    assert question.coding is not None
    return run_tests(code, question.coding, list(question.coding.tests), bounds=bounds)


def reference_runs(question: Question, runs: int) -> dict[str, Any]:
    assert question.coding is not None
    scaling = question.coding.bounds.scaling
    flaky, degrees, scaling_s, bounds_s, added_s = [], [], [], [], []
    for _ in range(runs):
        report = submit(question, question.coding.reference_solution)
        plain = submit(question, question.coding.reference_solution, bounds=False)
        added_s.append(report.seconds - plain.seconds)
        failed = [
            f"{r.name}: {r.status} {r.error or ''}" for r in report.results if r.status != "passed"
        ]
        if failed or report.error:
            flaky.append(report.error or "; ".join(failed))
        checks = [r for r in report.results if r.check is not None]
        bounds_s.append(sum(r.seconds for r in checks))
        scaling_s += [r.seconds for r in checks if r.check == "scaling"]
        if report.growth is not None:
            degrees.append(report.growth.reference)
    row: dict[str, Any] = {"runs": runs, "flaky": len(flaky), "failures": flaky[:3]}
    row["bounds_seconds_p95"] = round(percentile(bounds_s, 0.95), 3)
    row["submit_added_seconds_p95"] = round(percentile(added_s, 0.95), 3)
    if scaling is not None and degrees:
        measured = statistics.median(degrees)
        declared = degree_label(DEGREE[scaling.growth])
        row.update(
            declared=scaling.growth,
            measured_degree=round(measured, 2),
            measured_class=degree_label(measured),
            class_right=degree_label(measured) == declared,
            scaling_seconds_p50=round(percentile(scaling_s, 0.5), 3),
            scaling_seconds_p95=round(percentile(scaling_s, 0.95), 3),
        )
    return row


def wrong_runs(question: Question) -> list[dict[str, Any]]:
    assert question.coding is not None
    rows = []
    for wrong in question.coding.wrong_solutions:
        report = submit(question, wrong.code)
        caught = [
            f"{r.name}: {r.error or r.status}" for r in report.results if r.status != "passed"
        ]
        scaling = [r.seconds for r in report.results if r.check == "scaling"]
        rows.append(
            {
                "name": wrong.name,
                "passed": not caught and not report.error,
                "caught_by": caught[:3],
                "scaling_seconds": scaling[0] if scaling else None,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--no-wrong", action="store_true", help="skip the wrong solutions")
    parser.add_argument("ids", nargs="*", help="question ids (default: every coding question)")
    args = parser.parse_args()
    bank = load_bank(ROOT)
    questions = [
        q
        for q in bank.questions.values()
        if q.coding is not None and (not args.ids or q.id in args.ids)
    ]
    began, per_question, scaling_all, all_bounds = time.perf_counter(), {}, [], []
    for question in sorted(questions, key=lambda q: q.id):
        row = reference_runs(question, args.runs)
        if not args.no_wrong:
            row["wrong"] = wrong_runs(question)
        per_question[question.id] = row
        print(question.id, json.dumps(row), flush=True)
    measured = [r for r in per_question.values() if "class_right" in r]
    added = [row["submit_added_seconds_p95"] for row in per_question.values()]
    wrong_scaling = [
        w["scaling_seconds"]
        for row in per_question.values()
        for w in row.get("wrong", [])
        if w["scaling_seconds"] is not None
    ]
    for row in per_question.values():
        all_bounds.append(row["bounds_seconds_p95"])
        if "scaling_seconds_p95" in row:
            scaling_all.append(row["scaling_seconds_p95"])
    wrong = [w for r in per_question.values() for w in r.get("wrong", [])]
    summary = {
        "questions": len(per_question),
        "runs_per_question": args.runs,
        "flaky_reference_runs": sum(r["flaky"] for r in per_question.values()),
        "scaling_questions": len(measured),
        "growth_class_right": sum(r["class_right"] for r in measured),
        "scaling_seconds_p95_worst_question": max(scaling_all, default=0.0),
        "bounds_seconds_p95_worst_question": max(all_bounds, default=0.0),
        "submit_added_seconds_p95_worst_question": max(added, default=0.0),
        "wrong_solutions_scaling_seconds_p95": round(percentile(wrong_scaling, 0.95), 3),
        "wrong_solutions": len(wrong),
        "wrong_solutions_passing": [w["name"] for w in wrong if w["passed"]],
        "seconds": round(time.perf_counter() - began, 1),
    }
    print(json.dumps(summary, indent=2))
    out = ROOT / "bench" / "results" / "coding_references.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"summary": summary, "questions": per_question}, indent=2) + "\n")


if __name__ == "__main__":
    main()
