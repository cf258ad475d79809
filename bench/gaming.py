"""The gaming ladder over the whole bank: per family, mean and max score by question kind, and
every failed check. `python bench/gaming.py [--per-kind N] [--json out.json]`."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import get_settings  # noqa: E402
from bot.content import (
    ContentBank,  # noqa: E402
    load_bank,  # noqa: E402
)
from bot.grading import OfflineGrader  # noqa: E402
from bot.grading.evals.ladder import (  # noqa: E402
    ladder_questions,
    run_coding_ladder,
    run_ladder,
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-kind", type=int, default=None)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--coding", action="store_true", help="coding answers with their code run, instead"
    )
    args = parser.parse_args()
    bank = load_bank(get_settings().content_dir)
    grader, fair = OfflineGrader(bank), OfflineGrader(bank, detect_copies=False)
    grader.warm_up()
    if args.coding:
        coding(bank, grader, fair, args.per_kind)
        return
    began = time.perf_counter()
    results = [run_ladder(grader, bank, q, fair) for q in ladder_questions(bank, args.per_kind)]
    by_family: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in results:
        for name, score in r["scores"].items():
            by_family[name][r["kind"]].append(score)
            by_family[name]["all"].append(score)
    kinds = ["all", "coding", "system_design", "llm_deep_dive", "behavioral"]
    print(f"{len(results)} questions in {time.perf_counter() - began:.0f} s; mean / max")
    print(f"{'family':26s}" + "".join(f"{k:>18s}" for k in kinds))
    for name, per in by_family.items():
        cells = [
            f"{statistics.fmean(per[k]):7.1f} / {max(per[k]):5.1f}  " if per[k] else " " * 18
            for k in kinds
        ]
        print(f"{name:26s}" + "".join(cells))
    failed = [(r["question"], c) for r in results for c, ok in r["checks"].items() if not ok]
    print(f"failed checks: {len(failed)}")
    for question, check in failed[:60]:
        print(f"  {question}: {check}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


def coding(bank: ContentBank, grader: OfflineGrader, fair: OfflineGrader, per: int | None) -> None:
    """Every coding question's answers graded as the app grades them, code run on hidden tests."""
    began = time.perf_counter()
    questions = [q for q in ladder_questions(bank, per) if q.coding is not None]
    results = [run_coding_ladder(grader, bank, q, fair) for q in questions]
    print(f"{len(results)} coding questions in {time.perf_counter() - began:.0f} s; mean / max")
    for name in results[0]["scores"]:
        scores = [r["scores"][name] for r in results]
        print(f"  {name:38s} {statistics.fmean(scores):6.1f} / {max(scores):5.1f}")
    failed = [(r["question"], c) for r in results for c, ok in r["checks"].items() if not ok]
    print(f"failed checks: {len(failed)}")
    for question, check in failed:
        print(f"  {question}: {check}")


if __name__ == "__main__":
    main()
