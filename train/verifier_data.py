"""Pairs for the answer verifier (train/verifier.py): (premise, answer text) -> supports /
contradicts / unrelated, written as JSON lines.

From the bank, per question, with each passage of its reference document cut into windows of
whole sentences (at most WINDOW_WORDS words, code and tables left out). The premise is what the
answer is checked against: a key point's text followed by one faithful window of a passage
marked for it, so that every detail a falsification changes is stated in the premise.
- supports: the window as it is, EDITED_PER_WINDOW rewordings of it by meaning-preserving edits
  (train/rephrase.py: sentence order, a sentence or an aside left out, synonyms, contractions,
  numbers as words, negated opposites, ...), and one sentence of a rewording; the key point's
  cues (and a rewording of each) against the key point and its first window;
- contradicts: automatic falsifications (train/falsify.py) of each of those texts, the reworded
  ones included, so that a rule's fingerprint appears in both classes;
- unrelated: the key point and one of its windows, paired with a (reworded) window of a passage
  marked for one of the question's other key points.
Questions are split 80/20 by a hash of their id; the held-out 20% only go to evaluation.

From the public sets (training splits only): (reference, answer) scored full is supports. A zero
score there means "not correct", which mixes wrong answers with off-topic ones: a zero answer
sharing at least ZERO_OVERLAP of its content words with the reference is taken as contradicts,
one sharing fewer is unrelated. Partial scores are left out.

With --handwritten, also the evaluation rows of the hand-written falsified set (never trained
on). Runs in the app's environment (it reads the bank with bot.content, and the hand-written rows
use its sentence embeddings):

    .venv/bin/python train/verifier_data.py --datasets ../shared/datasets \
        --handwritten artifacts/handwritten.jsonl
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
from rephrase import rephrase, sentences  # noqa: E402

from bot.content import ContentBank, KeyPoint, Question, load_bank  # noqa: E402
from bot.grading.evals.datasets import read_csv  # noqa: E402
from bot.knowledge.chunking import chunk_document  # noqa: E402
from bot.text import content_stems, split_units  # noqa: E402

LABELS = ("supports", "contradicts", "unrelated")
HELD_OUT = 0.2
WINDOW_WORDS = 40
EDITED_PER_WINDOW = 3
FALSE_PER_TEXT = 2
UNRELATED_PER_POINT = 6
PASSAGE_WORDS = 100
ZERO_OVERLAP = 0.5
TRAIN_SPLITS = {"saf_cn_english.csv": "training", "scientsbank_2way.csv": "train"}


@dataclass(frozen=True)
class Pair:
    premise: str  # the key point (bank) or the reference answer (public sets)
    answer: str
    label: str
    split: str  # "train" or "heldout"
    source: str  # bank / saf_cn_english / scientsbank_2way
    kind: str  # verbatim/edited/sentence/cue, a falsify rule, other-*, full, zero-near/-far
    group: str  # the faithful text a falsification came from (pairs them up in evaluation)
    edits: str = ""  # the meaning-preserving edits the text went through (train/rephrase.py)


Variant = tuple[str, str, str]  # kind, edit names, text
Checked = tuple[str, list[Variant]]  # premise, the faithful texts checked against it


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
    found: dict[str, list[str]] = {kp.id: [] for kp in question.key_points}  # bank order
    for chunk in chunk_document(bank.reference(question.id)):
        for kp in ids.intersection(chunk.key_point_ids):
            found[kp].extend(windows(chunk.text))
    return found


def premise_of(kp_text: str, window: str | None) -> str:
    """What an answer text is checked against: the key point and the faithful kb window, so that
    every detail a falsification changes is stated in the premise."""
    return f"{kp_text} {window}" if window else kp_text


def faithful_variants(window: str, rng: random.Random) -> list[Variant]:
    """(kind, edit names, text): the window as it is, EDITED_PER_WINDOW rewordings by
    meaning-preserving edits (train/rephrase.py), and one sentence of a rewording."""
    found = [("verbatim", "", window)]
    for _ in range(EDITED_PER_WINDOW):
        edited = rephrase(window, rng, edits=rng.randint(1, 3))
        if edited and edited[1] not in {t for _, _, t in found}:
            found.append(("edited", "+".join(edited[0]), edited[1]))
    parts = sentences(found[-1][2])
    if len(parts) > 1:
        sentence = rng.choice([p for p in parts if len(p.split()) >= 5] or parts)
        found.append(("sentence", found[-1][1], sentence))
    return found


def point_texts(kp: KeyPoint, windows_: list[str], rng: random.Random) -> list[Checked]:
    """(premise, faithful variants) for one key point: its windows, then its cues (checked
    against the key point and its first window)."""
    texts = [(premise_of(kp.text, w), faithful_variants(w, rng)) for w in windows_]
    first = windows_[0] if windows_ else None
    for cue in kp.cues:
        edited = rephrase(cue, rng, edits=1)
        cues = [("cue", "", cue)] + ([("cue", "+".join(edited[0]), edited[1])] if edited else [])
        texts.append((premise_of(kp.text, first), cues))
    return texts


def bank_pairs(bank: ContentBank, rng: random.Random) -> Iterator[Pair]:
    for question in bank.questions.values():
        split = "heldout" if held_out(question.id) else "train"
        marked = question_windows(bank, question)
        for kp in question.key_points:
            group = f"{question.id}/{kp.id}"
            for n, (premise, variants) in enumerate(point_texts(kp, marked[kp.id], rng)):
                for v, (kind, edits, text) in enumerate(variants):
                    tag = f"{group}/{n}/{v}"
                    yield Pair(premise, text, "supports", split, "bank", kind, tag, edits)
                    for rule, false in falsifications(text, rng, most=FALSE_PER_TEXT):
                        yield Pair(premise, false, "contradicts", split, "bank", rule, tag, edits)
            others = [w for other, ws in marked.items() if other != kp.id for w in ws]
            others = [w for w in others if w not in marked[kp.id]]
            for text in rng.sample(others, min(UNRELATED_PER_POINT, len(others))):
                own = rng.choice(marked[kp.id]) if marked[kp.id] else None
                kind, edits, answer = rng.choice(faithful_variants(text, rng))
                kind = f"other-{kind}"
                yield Pair(
                    premise_of(kp.text, own), answer, "unrelated", split, "bank", kind, group, edits
                )


def passage(windows_: list[str]) -> str:
    """Windows joined in order while they fit in PASSAGE_WORDS words (at least one)."""
    kept = windows_[:1]
    for window in windows_[1:]:
        if len(" ".join([*kept, window]).split()) > PASSAGE_WORDS:
            break
        kept.append(window)
    return " ".join(kept)


def point_pairs(bank: ContentBank, rng: random.Random) -> Iterator[Pair]:
    """Pairs where answer and premise say the same thing in different words: the premise is the
    text of the passages marked for a key point (from each of its windows on, PASSAGE_WORDS at
    most), the answer is the key point's own text
    (and a rewording of it): supports; its falsifications: contradicts; another key point's text
    of the question: unrelated. The window pairs above can be told apart by comparing strings;
    these cannot, and a real answer never repeats the kb."""
    for question in bank.questions.values():
        split = "heldout" if held_out(question.id) else "train"
        marked = question_windows(bank, question)
        for kp in question.key_points:
            others = [o.text for o in question.key_points if o.id != kp.id]
            for n in range(len(marked[kp.id])):
                window = passage(marked[kp.id][n:] + marked[kp.id][:n])
                edited = rephrase(kp.text, rng, edits=rng.randint(1, 2))
                texts = [("point", "", kp.text)]
                texts += [("point", "+".join(edited[0]), edited[1])] if edited else []
                for v, (kind, edits, text) in enumerate(texts):
                    tag = f"{question.id}/{kp.id}#p{n}/{v}"
                    yield Pair(window, text, "supports", split, "bank", kind, tag, edits)
                    for rule, false in falsifications(text, rng, most=FALSE_PER_TEXT):
                        yield Pair(window, false, "contradicts", split, "bank", rule, tag, edits)
                if others:
                    other = rng.choice(others)
                    yield Pair(window, other, "unrelated", split, "bank", "other-point", tag, "")


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


def handwritten_rows(bank: ContentBank, folder: Path) -> Iterator[dict[str, str]]:
    """Evaluation rows of the hand-written set (bench/data/falsified, never trained on): each
    sentence of each faithful and falsified text, beside the (key point + kb window) premise of
    its question that is closest to it by the app's sentence embeddings."""
    import yaml

    from bot.knowledge.embeddings import get_encoder

    encoder = get_encoder()
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        question = bank.questions[data["question"]]
        marked = question_windows(bank, question)
        premises = [
            premise_of(kp.text, w) for kp in question.key_points for w in marked[kp.id] or [None]
        ]
        vectors = encoder.encode(premises)
        texts = [("faithful", "faithful", t["text"]) for t in data["faithful"]]
        texts += [("falsified", t["kind"], t["text"]) for t in data["falsified"]]
        for n, (label, kind, text) in enumerate(texts):
            units = [" ".join(u.text.split()) for u in split_units(text)]
            units = [u for u in units if len(u.split()) >= 4]
            nearest = (encoder.encode(units) @ vectors.T).argmax(1)
            for unit, best in zip(units, nearest, strict=True):
                yield {
                    "question": question.id,
                    "split": "heldout" if held_out(question.id) else "train",
                    "text": f"{question.id}/{n}",
                    "label": label,
                    "kind": kind,
                    "premise": premises[int(best)],
                    "answer": unit,
                }


def write_jsonl(path: Path, rows: Iterator[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts" / "pairs.jsonl")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--point-pairs", action="store_true", help="add key point text vs kb window pairs"
    )
    parser.add_argument(
        "--handwritten", type=Path, help="also write the hand-written set's evaluation rows here"
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    bank = load_bank(ROOT)
    pairs = [*bank_pairs(bank, rng), *dataset_pairs(args.datasets)]
    if args.point_pairs:  # drawn after the others, from their own seed: those stay as they were
        pairs += point_pairs(bank, random.Random(args.seed + 1))
    write_jsonl(args.out, (asdict(p) for p in pairs))
    if args.handwritten:
        write_jsonl(args.handwritten, handwritten_rows(bank, ROOT / "bench/data/falsified"))
    counts = Counter((p.split, p.source, p.label) for p in pairs)
    for key, count in sorted(counts.items()):
        print(*key, count, sep="\t")
    print("falsification rules:", dict(Counter(p.kind for p in pairs if p.label == "contradicts")))


if __name__ == "__main__":
    main()
