"""Load and cross-check every content file; report all problems at once."""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from bot.config import PROJECT_ROOT
from bot.content.marks import first_marks
from bot.content.models import KbDoc, LabelledSet, Loc, Question, RoundPlan, Rubric
from bot.content.select import practice_pool
from bot.content.source import Parsed, parse_yaml, read_text, split_front_matter
from bot.errors import ContentError, ContentIssue, NotFoundError

# Paths inside a content root. Only the first three are required; the others are optional.
REQUIRED_DIRS = ("question_bank", "rubrics", "kb")
PLANS_DIR = "plans"  # mock-interview plans; without it, the repository's own plans are used
LABELLED_DIR = "bench/labelled"  # human-scored answers: the grader's benchmark, checked if present
COVERAGE_FILE = "question_bank/coverage.yaml"  # what the bank must cover (not a question)
DEFAULT_PLANS_ROOT = PROJECT_ROOT
M = TypeVar("M", bound=BaseModel)
_ALONE: dict[str, type[BaseModel]] = {
    "rubrics": Rubric,
    PLANS_DIR: RoundPlan,
    LABELLED_DIR: LabelledSet,
}


@dataclass(frozen=True)
class KbFile:
    """A kb/ document: front matter, Markdown body and which key points each line marks."""

    doc: KbDoc
    path: str
    body: str
    body_line: int
    marks: dict[str, int] = field(default_factory=dict)  # key point id -> line of first mark


@dataclass(frozen=True)
class ContentBank:
    root: Path
    questions: dict[str, Question]
    question_paths: dict[str, str]
    rubrics: dict[str, Rubric]
    docs: dict[str, KbFile]
    labelled: dict[str, LabelledSet]
    plans: dict[str, RoundPlan] = field(default_factory=dict)
    # What the bank was loaded from (bot.content.cache): data derived from it is cached on disk
    # under this key; empty for a bank loaded without the cache (its derived data is not kept).
    fingerprint: str = ""

    def question(self, question_id: str) -> Question:
        return _lookup("question", question_id, self.questions)

    def rubric(self, rubric_id: str) -> Rubric:
        return _lookup("rubric", rubric_id, self.rubrics)

    def plan(self, plan_id: str) -> RoundPlan:
        return _lookup("plan", plan_id, self.plans)

    def reference(self, question_id: str) -> KbFile:
        return self.docs[self.question(question_id).reference]

    def summary(self) -> dict[str, Any]:
        qs = self.questions.values()
        return {
            "questions": len(self.questions),
            "by_kind": dict(sorted(Counter(q.kind for q in qs).items())),
            "by_competency": dict(sorted(Counter(q.competency for q in qs).items())),
            "by_difficulty": dict(sorted(Counter(q.difficulty for q in qs).items())),
            "rubrics": len(self.rubrics),
            "kb_docs": len(self.docs),
            "kb_words": sum(len(f.body.split()) for f in self.docs.values()),
            "labelled_questions": len(self.labelled),
            "labelled_answers": sum(len(s.answers) for s in self.labelled.values()),
        }


def _lookup(what: str, name: str, table: dict[str, M]) -> M:
    if name in table:
        return table[name]
    raise NotFoundError(what, name, difflib.get_close_matches(name, list(table), n=3))


class _Collector:
    """Gathers issues while files are parsed, so that all of them are reported together."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.issues: list[ContentIssue] = []
        self.sources: dict[str, Parsed] = {}
        self.broken: set[str] = set()  # stems of files that failed, to avoid cascading errors
        self.missing: set[str] = set()  # required directories that are absent, likewise

    def reported(self, name: str, sub: str) -> bool:
        """Whether `name`, looked up in `sub`, is missing for a reason already reported."""
        return name in self.broken or sub in self.missing

    def files(self, sub: str, pattern: str) -> list[Path]:
        return sorted((self.root / sub).glob(pattern))

    def display(self, file: Path) -> str:
        return file.relative_to(self.root).as_posix()

    def model(self, parsed: Parsed, cls: type[M], data: Any) -> M | None:
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            self.issues.extend(parsed.issues_from(err))
            self.broken.add(Path(parsed.path).stem)
            return None

    def yaml_model(self, file: Path, cls: type[M]) -> M | None:
        display = self.display(file)
        text = read_text(file, display)
        parsed = text if isinstance(text, ContentIssue) else parse_yaml(text, display)
        if isinstance(parsed, ContentIssue):
            self.issues.append(parsed)
            self.broken.add(file.stem)
            return None
        self.sources[display] = parsed
        self.issues.extend(parsed.duplicate_keys())
        if not isinstance(parsed.data, dict):
            self.issues.append(parsed.issue((), "expected a mapping of fields"))
            return None
        return self.model(parsed, cls, parsed.data)

    def question(self, file: Path) -> Question | None:
        question = self.yaml_model(file, Question)
        for loc, message in question.problems() if question else ():
            self.at(self.display(file), loc, message)
        return question

    def kb_file(self, file: Path) -> KbFile | None:
        path = self.display(file)
        text = read_text(file, path)
        split = text if isinstance(text, ContentIssue) else split_front_matter(text, path)
        if isinstance(split, ContentIssue):
            self.issues.append(split)
            self.broken.add(file.stem)
            return None
        parsed, body, body_line = split
        self.sources[path] = parsed
        self.issues.extend(parsed.duplicate_keys())
        doc = self.model(parsed, KbDoc, parsed.data if isinstance(parsed.data, dict) else {})
        if doc is None:
            return None
        return KbFile(doc, path, body, body_line, first_marks(body, body_line))

    def at(self, path: str, loc: Loc, message: str) -> None:
        self.issues.append(self.sources[path].issue(loc, message))


def check_file(root: Path, file: Path) -> None:
    """One content file's own checks (readable, YAML, duplicate keys, schema); ContentError if
    any fails. What links files together (references, ids, plans) needs the whole bank."""
    col = _Collector(root)
    top = col.display(file)
    if top.startswith("kb/"):
        col.kb_file(file)
    elif top.startswith("question_bank/"):
        col.question(file)
    else:
        col.yaml_model(file, _ALONE[top.rpartition("/")[0]])
    if col.issues:
        raise ContentError(col.issues)


def load_bank_cached(root: Path) -> ContentBank:
    """`load_bank`, kept on disk between processes: a cold process reads the bank back in
    ~20 ms instead of parsing and checking every file again. Any change to a content file or
    to the code that loads it makes a new key, so the bank is loaded and checked again."""
    from bot.content import cache

    fingerprint = cache.key_of(
        [
            cache.content_hash(root, DEFAULT_PLANS_ROOT / PLANS_DIR),
            cache.code_hash(__name__, "bot.content.models", "bot.content.source"),
        ]
    )
    bank = cache.derived().get("bank", fingerprint, lambda: load_bank(root))
    return replace(bank, fingerprint=fingerprint)


def load_bank(root: Path) -> ContentBank:
    """Load every content file under `root`; raise ContentError listing every problem.

    A missing required directory is one problem among the others: whatever exists is still
    loaded and checked, so one run reports everything there is to fix.
    """
    col = _Collector(root)
    for sub in REQUIRED_DIRS:
        if not (root / sub).is_dir():
            col.missing.add(sub)
            col.issues.append(ContentIssue(sub + "/", 0, "(dir)", "directory is missing"))
    questions, question_paths = _load_questions(col)
    rubrics = _load_keyed(col, "rubrics", Rubric)
    docs = _load_docs(col)
    labelled = _load_labelled(col)
    _check_questions(col, questions, question_paths, rubrics, docs)
    _check_docs(col, questions, docs)
    _check_labelled(col, questions, labelled)
    plans = _load_plans(col, questions)
    if col.issues:
        raise ContentError(col.issues)
    return ContentBank(root, questions, question_paths, rubrics, docs, labelled, plans)


def _load_questions(col: _Collector) -> tuple[dict[str, Question], dict[str, str]]:
    questions: dict[str, Question] = {}
    paths: dict[str, str] = {}
    for file in col.files("question_bank", "**/*.yaml"):
        if col.display(file) == COVERAGE_FILE:
            continue
        question = col.question(file)
        path = col.display(file)
        if question is not None and _unique(col, path, question.id, paths, file.stem):
            questions[question.id] = question
            paths[question.id] = path
    return questions, paths


def _unique(col: _Collector, path: str, item_id: str, seen: dict[str, str], stem: str) -> bool:
    if item_id in seen:
        col.at(path, ("id",), f"duplicate id '{item_id}' (also in {seen[item_id]})")
        return False
    if stem != item_id:
        col.at(path, ("id",), f"id '{item_id}' does not match the file name '{stem}'")
    seen[item_id] = path
    return True


K = TypeVar("K", Rubric, RoundPlan)


def _load_keyed(col: _Collector, sub: str, cls: type[K]) -> dict[str, K]:
    found: dict[str, K] = {}
    seen: dict[str, str] = {}
    for file in col.files(sub, "*.yaml"):
        item = col.yaml_model(file, cls)
        if item is not None and _unique(col, col.display(file), item.id, seen, file.stem):
            found[item.id] = item
    return found


def _load_docs(col: _Collector) -> dict[str, KbFile]:
    docs: dict[str, KbFile] = {}
    seen: dict[str, str] = {}
    for file in col.files("kb", "**/*.md"):
        kb_file = col.kb_file(file)
        if kb_file is not None and _unique(col, kb_file.path, kb_file.doc.id, seen, file.stem):
            docs[kb_file.doc.id] = kb_file
    return docs


def _load_labelled(col: _Collector) -> dict[str, LabelledSet]:
    sets: dict[str, LabelledSet] = {}
    for file in col.files(LABELLED_DIR, "*.yaml"):
        item = col.yaml_model(file, LabelledSet)
        if item is None:
            continue
        if file.stem != item.question:
            col.at(col.display(file), ("question",), "must match the file name")
        elif _unique_answer_ids(col, col.display(file), item):
            sets[item.question] = item
    return sets


def _unique_answer_ids(col: _Collector, path: str, item: LabelledSet) -> bool:
    ids = [a.id for a in item.answers]
    for i, answer_id in enumerate(ids):
        if ids.index(answer_id) != i:
            col.at(path, ("answers", i, "id"), f"duplicate answer id '{answer_id}'")
    return len(set(ids)) == len(ids)


def _check_questions(
    col: _Collector,
    questions: dict[str, Question],
    paths: dict[str, str],
    rubrics: dict[str, Rubric],
    docs: dict[str, KbFile],
) -> None:
    for qid, q in questions.items():
        path = paths[qid]
        rubric = rubrics.get(q.rubric)
        if rubric is None and col.reported(q.rubric, "rubrics"):
            pass  # the rubric's own errors (or its missing directory) are reported already
        elif rubric is None:
            col.at(path, ("rubric",), f"no rubric '{q.rubric}'{_did_you_mean(q.rubric, rubrics)}")
        elif q.kind not in rubric.kinds:
            col.at(path, ("rubric",), f"rubric '{q.rubric}' is not for {q.kind} questions")
        for i, pre in enumerate(q.prerequisites):
            if pre not in questions and not col.reported(pre, "question_bank"):
                col.at(path, ("prerequisites", i), f"no question '{pre}'")
        doc = docs.get(q.reference)
        if doc is None and col.reported(q.reference, "kb"):
            continue
        if doc is None:
            col.at(path, ("reference",), f"no kb document '{q.reference}'")
            continue
        if qid not in doc.doc.questions:
            col.at(path, ("reference",), f"kb document '{q.reference}' does not list this question")
        for i, kp in enumerate(q.key_points):
            if kp.id not in doc.marks:
                col.at(path, ("key_points", i, "id"), f"not marked in {doc.path}")


def _did_you_mean(name: str, table: dict[str, Any]) -> str:
    close = difflib.get_close_matches(name, list(table), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _check_docs(col: _Collector, questions: dict[str, Question], docs: dict[str, KbFile]) -> None:
    for f in docs.values():
        known: set[str] = set()
        for i, qid in enumerate(f.doc.questions):
            if qid in questions:
                known.update(questions[qid].key_point_ids)
            elif not col.reported(qid, "question_bank"):
                col.at(f.path, ("questions", i), f"no question '{qid}'")
        checkable = all(qid in questions for qid in f.doc.questions)
        for kp, line in f.marks.items():
            if f.doc.questions and checkable and kp not in known:
                col.issues.append(
                    ContentIssue(
                        f.path, line, "key_points", f"no key point '{kp}' in its questions"
                    )
                )


def _check_labelled(
    col: _Collector, questions: dict[str, Question], labelled: dict[str, LabelledSet]
) -> None:
    for qid, item in labelled.items():
        path = f"{LABELLED_DIR}/{qid}.yaml"
        question = questions.get(qid)
        if question is None and col.reported(qid, "question_bank"):
            continue
        if question is None:
            col.at(path, ("question",), f"no question '{qid}'")
            continue
        for i, answer in enumerate(item.answers):
            for j, kp in enumerate(answer.covers):
                if kp not in question.key_point_ids:
                    col.at(path, ("answers", i, "covers", j), f"no key point '{kp}'")


def _load_plans(col: _Collector, questions: dict[str, Question]) -> dict[str, RoundPlan]:
    """The content root's own plans, checked strictly; without a plans/ directory, the
    repository's default plans, keeping those the bank has questions for."""
    if (col.root / PLANS_DIR).is_dir():
        plans = _load_keyed(col, PLANS_DIR, RoundPlan)
        for plan in plans.values() if questions else ():  # no questions: nothing to draw on
            for i in _unfilled_rounds(plan, questions):
                tag = plan.rounds[i].tag
                with_tag = f" tagged '{tag}'" if tag else ""
                message = f"no {plan.rounds[i].kind} question{with_tag} for this round"
                col.at(f"{PLANS_DIR}/{plan.id}.yaml", ("rounds", i, "kind"), message)
        return plans
    defaults = _Collector(DEFAULT_PLANS_ROOT)
    plans = _load_keyed(defaults, PLANS_DIR, RoundPlan)
    col.issues.extend(defaults.issues)  # a broken default plan is the repository's own bug
    return {k: p for k, p in plans.items() if not _unfilled_rounds(p, questions)}


def _unfilled_rounds(plan: RoundPlan, questions: dict[str, Question]) -> list[int]:
    """Indices of the plan's rounds that have no question to draw from."""
    return [
        i
        for i, r in enumerate(plan.rounds)
        if not practice_pool(questions, kind=r.kind, competencies=r.competencies, tag=r.tag)
    ]
