"""Export of attempts: CSV (one row per graded attempt) and JSON (sessions with full grades)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import datetime
from typing import Any, TextIO

from bot.errors import public
from bot.store.records import AttemptRecord, SessionRecord
from bot.store.schema import utcnow

EXPORT_FORMAT_VERSION = 1
CSV_LEAD = ["timestamp", "session_id", "mode", "round", "question_id", "kind", "competency"]
CSV_LEAD += ["difficulty", "score"]
CSV_TAIL = ["hints_used", "duration_s", "grader", "grader_model", "grader_version"]
CSV_TAIL += ["rubric_id", "rubric_version", "seen_key_points"]


def export_csv(rows: Iterable[AttemptRecord], out: TextIO) -> int:
    """One row per graded attempt, a `criterion:<id>` column (level 0-4) per criterion seen.

    Returns the number of rows written.
    """
    graded = [a for a in rows if a.grade is not None]
    criteria = sorted({c.id for a in graded if a.grade for c in a.grade.criteria})
    writer = csv.DictWriter(out, [*CSV_LEAD, *(f"criterion:{c}" for c in criteria), *CSV_TAIL])
    writer.writeheader()
    for a in graded:
        writer.writerow(public(_csv_row(a)))
    return len(graded)


def _csv_row(a: AttemptRecord) -> dict[str, object]:
    row: dict[str, object] = {k: getattr(a, k) for k in [*CSV_LEAD[1:], *CSV_TAIL]}
    row["timestamp"] = a.created_at.isoformat()
    for c in a.grade.criteria if a.grade else []:
        row[f"criterion:{c.id}"] = c.level
    return row


def export_json(records: Iterable[SessionRecord], *, now: datetime | None = None) -> dict[str, Any]:
    """Every session with every attempt (answers, full grades and the retry mark included),
    secrets scrubbed and numbers JSON cannot hold as None."""
    return {
        "format_version": EXPORT_FORMAT_VERSION,
        "exported_at": (now or utcnow()).isoformat(),
        "sessions": public([s.to_dict() for s in records]),
    }
