"""How often a candidate's clarifying question is answered from the right fact (issue #19 item 5).

    python bench/clarify.py            # accuracy on bench/data/clarifying.yaml (82 questions)

Each row is a clarifying question written for the purpose with the fact that answers it (or none,
when the interviewer should say "assume and state it"). Prints accuracy overall, on rows with a
fact, and on rows without one, and lists the misses.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.content import load_bank  # noqa: E402
from bot.interview.clarify import best_fact  # noqa: E402

DATA = ROOT / "bench" / "data" / "clarifying.yaml"


def main() -> None:
    bank = load_bank(ROOT)
    rows = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    hits = {"with a fact": [0, 0], "without one": [0, 0]}
    misses = []
    began = time.perf_counter()
    for row in rows:
        question = bank.question(row["question"])
        got = best_fact(question, row["ask"])
        group = hits["with a fact" if row["fact"] is not None else "without one"]
        group[1] += 1
        if got == row["fact"]:
            group[0] += 1
        else:
            misses.append(f"  {row['question']}: {row['ask']!r} -> {got} (want {row['fact']})")
    seconds = time.perf_counter() - began
    right = sum(h[0] for h in hits.values())
    print(f"clarifying questions answered from the right fact: {right}/{len(rows)} "
          f"({100 * right / len(rows):.1f}%), {1000 * seconds / len(rows):.1f} ms each")
    for name, (good, total) in hits.items():
        print(f"  {name}: {good}/{total}")
    print("misses:" if misses else "no misses")
    print("\n".join(misses))


if __name__ == "__main__":
    main()
