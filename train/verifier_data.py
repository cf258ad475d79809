"""Pairs for the answer verifier (train/verifier.py): (key point or reference, answer text) ->
supports / contradicts / unrelated, written as JSON lines.

From the bank, per question, with each passage of its reference document cut into windows of
whole sentences (at most WINDOW_WORDS words, code and tables left out):
- supports: a window of a passage marked for a key point, paired with that key point's text;
  the key point's cues, paired with its text, are supports too;
- contradicts: automatic falsifications of those windows and cues (train/falsify.py);
- unrelated: the key point paired with windows of the passages of the question's other key
  points (never a passage marked for this one).
Questions are split 80/20 by a hash of their id; the held-out 20% only go to evaluation.

From the public sets (training splits only, ../shared/datasets): (reference, answer) scored full
is supports. A zero score there means "not correct", which mixes wrong answers with off-topic
ones: a zero answer sharing at least ZERO_OVERLAP of its content words with the reference is
taken as contradicts (it talks about the same things and says them wrong), one sharing fewer is
unrelated. Partial scores are left out.

Runs in the app's environment (it reads the bank with bot.content):

    python train/verifier_data.py --datasets ../../shared/datasets --out artifacts/pairs.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from falsify import falsifications  # noqa: E402

from bot.content import ContentBank, Question, load_bank  # noqa: E402
from bot.grading.evals.datasets import read_csv  # noqa: E402
from bot.knowledge.chunking import chunk_document  # noqa: E402
from bot.text import content_stems, split_units  # noqa: E402

LABELS = ("supports", "contradicts", "unrelated")
HELD_OUT = 0.2
WINDOW_WORDS = 60
FALSE_PER_WINDOW = 2
UNRELATED_PER_POINT = 4
ZERO_OVERLAP = 0.5
TRAIN_SPLITS = {"saf_cn_english.csv": "training", "scientsbank_2way.csv": "train"}


@dataclass(frozen=True)
class Pair:
    premise: str  # the key point (bank) or the reference answer (public sets)
    answer: str
    label: str
    split: str  # "train" or "heldout"
    source: str  # bank / saf_cn_english / scientsbank_2way
    kind: str  # faithful, cue, a falsify rule name, other-point, full, zero-near, zero-far
    group: str  # the faithful window a falsification came from (pairs them up in evaluation)


def held_out(question_id: str) -> bool:
    return zlib.crc32(question_id.encode()) % 100 < HELD_OUT * 100


def prose(text: str) -> str:
    """A passage without code blocks, tables and list markers."""
    text = re.sub(r"```.*?```", " ", text, flags=re.DOTALL)
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("|")]
    return "\n".join(re.sub(r"^\s*(?:[-*]|\d+\.)\s+", "", ln) for ln in lines)


def windows(text: str) -> list[str]:
    """Runs of whole sentences of at most WINDOW_WORDS words (a longer sentence alone)."""
    out: list[str] = []
    current: list[str] = []
    for unit in split_units(prose(text)):
        sentence = " ".join(unit.text.split())
        if current and len(" ".join([*current, sentence]).split()) > WINDOW_WORDS:
            out.append(" ".join(current))
            current = []
        current.append(sentence)
    if current:
        out.append(" ".join(current))
    return [w for w in out if len(w.split()) >= 5]


def question_windows(bank: ContentBank, question: Question) -> dict[str, list[str]]:
    """Key point id -> the windows of the passages marked for it."""
    ids = {kp.id for kp in question.key_points}
    found: dict[str, list[str]] = {kp: [] for kp in ids}
    for chunk in chunk_document(bank.reference(question.id)):
        for kp in ids.intersection(chunk.key_point_ids):
            found[kp].extend(windows(chunk.text))
    return found


def bank_pairs(bank: ContentBank, rng: random.Random) -> Iterator[Pair]:
    for question in bank.questions.values():
        split = "heldout" if held_out(question.id) else "train"
        marked = question_windows(bank, question)
        for kp in question.key_points:

            def pair(answer: str, label: str, kind: str, group: str) -> Pair:
                return Pair(kp.text, answer, label, split, "bank", kind, group)  # noqa: B023

            for n, text in enumerate([*marked[kp.id], *kp.cues]):
                kind = "faithful" if n < len(marked[kp.id]) else "cue"
                group = f"{question.id}/{kp.id}/{n}"
                yield pair(text, "supports", kind, group)
                for rule, falsified in falsifications(text, rng, most=FALSE_PER_WINDOW):
                    yield pair(falsified, "contradicts", rule, group)
            others = [w for other, ws in marked.items() if other != kp.id for w in ws]
            others = [w for w in others if w not in marked[kp.id]]
            for text in rng.sample(others, min(UNRELATED_PER_POINT, len(others))):
                yield pair(text, "unrelated", "other-point", f"{question.id}/{kp.id}")


def dataset_pairs(folder: Path) -> Iterator[Pair]:
    for name, split in TRAIN_SPLITS.items():
        for row in read_csv(folder / name, split=split):
            if row.score == 100:
                label, kind = "supports", "full"
            elif row.score == 0:
                reference = set(content_stems(row.reference))
                said = set(content_stems(row.answer))
                near = len(said & reference) >= ZERO_OVERLAP * max(len(said), 1)
                label, kind = ("contradicts", "zero-near") if near else ("unrelated", "zero-far")
            else:
                continue
            yield Pair(row.reference, row.answer, label, "train", name[:-4], kind, row.question_id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts" / "pairs.jsonl")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    pairs = [*bank_pairs(load_bank(ROOT), rng), *dataset_pairs(args.datasets)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as handle:
        for p in pairs:
            handle.write(json.dumps(asdict(p)) + "\n")
    counts = Counter((p.split, p.source, p.label) for p in pairs)
    for key, count in sorted(counts.items()):
        print(*key, count, sep="\t")
    print("falsification rules:", dict(Counter(p.kind for p in pairs if p.label == "contradicts")))


if __name__ == "__main__":
    main()
