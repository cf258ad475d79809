"""Export of attempts, for a candidate to review and a coach to load.

Three views of the same `Export`: a flat CSV (one row per attempt, graded or not), a long CSV of
key-point results (one row per graded attempt and key point) and a JSON document that holds
everything, follow-ups and full grades included. The columns of the flat CSV are also keys of
every JSON attempt (lists stay lists in JSON and are joined with LIST_SEPARATOR in CSV).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, TextIO

from bot.content import Question
from bot.errors import public
from bot.store.records import AttemptRecord, FollowUpRecord, SessionRecord
from bot.store.schema import LOCAL_USER, utcnow

if TYPE_CHECKING:
    from bot.store.attempts import AttemptStore

EXPORT_FORMAT_VERSION = 2  # 2: every attempt, question text, follow-ups, key points, feedback
LIST_SEPARATOR = " | "
CRITERION_PREFIX = "criterion:"  # a CSV column per rubric criterion seen: the level reached, 0-4
ATTEMPT_COLUMNS = [
    "attempt_id", "question_id", "question_title", "question_prompt", "kind", "competency",
    "difficulty", "session_id", "mode", "plan", "round", "created_at", "submitted_at",
    "graded_at", "hints_used", "duration_s", "answer", "follow_up_questions",
    "follow_up_answers", "score", "passed", "key_points_covered", "key_points_partial",
    "key_points_missed", "key_points_contradicted", "red_flags", "set_aside", "language",
    "strengths", "improvements", "notes", "grader", "grader_model", "grader_version", "rubric_id",
    "rubric_version",
    "seen_key_points",
]  # fmt: skip
KEY_POINT_COLUMNS = [
    "attempt_id", "question_id", "key_point_id", "text", "status", "confidence", "evidence",
    "weight",
]  # fmt: skip
# Copied from the attempt record as they are (the record holds every one of them).
_RECORD_COLUMNS = [
    "question_id", "kind", "competency", "difficulty", "session_id", "mode", "round",
    "hints_used", "duration_s", "score", "grader", "grader_model", "grader_version", "rubric_id",
    "rubric_version", "seen_key_points",
]  # fmt: skip


@dataclass(frozen=True)
class Export:
    """What an export holds: attempts (oldest first, as history lists them), their sessions,
    follow-ups by attempt id, and the questions of the content bank (for titles and prompts;
    an attempt of a question no longer in the bank keeps empty ones)."""

    attempts: list[AttemptRecord]
    sessions: list[SessionRecord]
    follow_ups: Mapping[str, Sequence[FollowUpRecord]]
    questions: Mapping[str, Question]

    @cached_property
    def plans(self) -> dict[str, str | None]:
        """Session id -> the mock-interview plan it followed."""
        return {s.id: s.plan for s in self.sessions}


def collect_export(
    store: AttemptStore,
    questions: Mapping[str, Question],
    *,
    user_id: str = LOCAL_USER,
    since: datetime | None = None,
) -> Export:
    """The user's attempts created at or after `since`, with everything the exports show."""
    sessions = store.sessions(user_id)
    attempts = sorted(
        (a for s in sessions for a in s.attempts if since is None or a.created_at >= since),
        key=lambda a: (a.created_at, a.id),
    )
    used = {a.session_id for a in attempts}
    kept = [s for s in sessions if s.id in used or since is None or s.started_at >= since]
    return Export(attempts, kept, store.follow_ups_by_attempt(user_id, since), questions)


def attempt_fields(data: Export, a: AttemptRecord) -> dict[str, Any]:
    """One attempt under the ATTEMPT_COLUMNS names, lists as lists."""
    question = data.questions.get(a.question_id)
    follow_ups = data.follow_ups.get(a.id, [])
    grade = None if a.grade is None else a.grade.model_dump(mode="json")
    found: dict[str, Any] = {k: getattr(a, k) for k in _RECORD_COLUMNS}
    found |= {
        "attempt_id": a.id,
        "question_title": None if question is None else question.title,
        "question_prompt": None if question is None else question.prompt,
        "plan": data.plans.get(a.session_id),
        "created_at": _iso(a.created_at),
        "submitted_at": _iso(a.submitted_at),
        "graded_at": _iso(a.graded_at),
        "answer": a.answer,
        "follow_up_questions": [f.prompt for f in follow_ups],
        "follow_up_answers": [f.answer for f in follow_ups],
    }
    found |= _grade_fields(grade)
    return {k: found[k] for k in ATTEMPT_COLUMNS}  # in column order, and none left out


def _grade_fields(grade: dict[str, Any] | None) -> dict[str, Any]:
    """What the grade adds, read from its JSON form so that a field the Grade model does not
    have (red flags, before it gains them) is simply empty."""
    if grade is None:
        return {"passed": None, "language": None} | dict.fromkeys(_GRADE_LISTS, [])
    points = grade.get("key_points", [])
    found: dict[str, Any] = {
        f"key_points_{status}": [k["text"] for k in points if k["status"] == status]
        for status in ("covered", "partial", "missed", "contradicted")
    }
    found |= {k: [str(x) for x in grade.get(k, [])] for k in ("strengths", "improvements", "notes")}
    return found | {
        "passed": grade.get("passed"),
        "language": grade.get("language"),
        "red_flags": [_label(flag) for flag in grade.get("red_flags") or []],
        "set_aside": [_set_aside(part) for part in grade.get("set_aside") or []],
    }


_GRADE_LISTS = [
    "key_points_covered", "key_points_partial", "key_points_missed", "key_points_contradicted",
    "red_flags", "set_aside",
    "strengths", "improvements", "notes",
]  # fmt: skip


def _label(item: object) -> str:
    """A red flag as one line of text, whatever shape the grade gives it."""
    if isinstance(item, dict):
        for key in ("text", "id"):
            if isinstance(item.get(key), str):
                return str(item[key])
        return json.dumps(item, ensure_ascii=False, sort_keys=True)
    return str(item)


def _set_aside(part: object) -> str:
    if not isinstance(part, dict):
        return str(part)
    source = f" (from {part['source']})" if part.get("source") else ""
    return f"{part.get('reason', '')}: {part.get('text', '')}{source}"


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


# --- CSV --------------------------------------------------------------------------------------


def export_csv(data: Export, out: TextIO) -> int:
    """One row per attempt, graded or not; returns the number of rows written.

    Lists are joined with LIST_SEPARATOR; text keeps its newlines inside quoted fields. After
    the ATTEMPT_COLUMNS comes a `criterion:<id>` column (level 0-4) per rubric criterion seen.
    """
    criteria = sorted({c.id for a in data.attempts if a.grade for c in a.grade.criteria})
    columns = [*ATTEMPT_COLUMNS, *(CRITERION_PREFIX + c for c in criteria)]
    writer = csv.DictWriter(out, columns)
    writer.writeheader()
    for a in data.attempts:
        row = {k: _cell(v) for k, v in attempt_fields(data, a).items()}
        for c in a.grade.criteria if a.grade else []:
            row[CRITERION_PREFIX + c.id] = str(c.level)
        writer.writerow(public(row))
    return len(data.attempts)


def export_key_points_csv(data: Export, out: TextIO) -> int:
    """One row per graded attempt and key point (KEY_POINT_COLUMNS); returns the rows written."""
    writer = csv.DictWriter(out, KEY_POINT_COLUMNS)
    writer.writeheader()
    written = 0
    for a in data.attempts:
        for k in a.grade.key_points if a.grade else []:
            writer.writerow(
                public(
                    {
                        "attempt_id": a.id,
                        "question_id": a.question_id,
                        "key_point_id": k.id,
                        "text": k.text,
                        "status": k.status,
                        "confidence": k.confidence,
                        "evidence": k.evidence,
                        "weight": k.weight,
                    }
                )
            )
            written += 1
    return written


def _cell(value: object) -> object:
    if isinstance(value, list):
        return LIST_SEPARATOR.join(str(v) for v in value)
    return value


# --- JSON -------------------------------------------------------------------------------------


def export_json(data: Export, *, now: datetime | None = None) -> dict[str, Any]:
    """Everything: sessions (with the ids of their attempts) and every attempt under the
    ATTEMPT_COLUMNS names, plus its follow-ups with their times, its key-point results with
    confidence and evidence, and the full grade (criteria, usage, hidden-test run)."""
    exported = {a.id for a in data.attempts}
    return {
        "format_version": EXPORT_FORMAT_VERSION,
        "exported_at": _iso(now or utcnow()),
        "sessions": public([_session(s, exported) for s in data.sessions]),
        "attempts": public([_json_attempt(data, a) for a in data.attempts]),
    }


def _session(s: SessionRecord, exported: set[str]) -> dict[str, Any]:
    found = {k: v for k, v in s.to_dict().items() if k != "attempts"}
    return found | {"attempt_ids": [a.id for a in s.attempts if a.id in exported]}


def _json_attempt(data: Export, a: AttemptRecord) -> dict[str, Any]:
    return attempt_fields(data, a) | {
        "follow_ups": [f.to_dict() for f in data.follow_ups.get(a.id, [])],
        "key_points": [] if a.grade is None else [k.model_dump() for k in a.grade.key_points],
        "grade": None if a.grade is None else a.grade.model_dump(mode="json"),
    }
