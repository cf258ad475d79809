"""The attempt store: schema, migrations, queries and export.

Importers use the names below; the modules are `schema` (current tables), `migrations` (the
schema's history), `database` (opening a URL), `records` (what queries return), `attempts`
(the store) and `export` (CSV and JSON).
"""

from bot.errors import StoreError
from bot.store.attempts import AttemptStore
from bot.store.export import (
    ATTEMPT_COLUMNS,
    EXPORT_FORMAT_VERSION,
    KEY_POINT_COLUMNS,
    LIST_SEPARATOR,
    Export,
    collect_export,
    export_csv,
    export_json,
    export_key_points_csv,
)
from bot.store.migrations import MIGRATIONS, migrate, migration
from bot.store.records import (
    RETRY_AFTER_FEEDBACK,
    TREND_WINDOW,
    AttemptRecord,
    CompetencySummary,
    FollowUpRecord,
    ScorePoint,
    SessionRecord,
    summary_of,
)
from bot.store.schema import (
    GRADED,
    LOCAL_USER,
    SAVED,
    SUBMITTED,
    UNGRADED,
    Clock,
    UTCDateTime,
    metadata,
    migrations_table,
    utcnow,
)
from bot.store.submissions import Revision, Submission, storable_text

__all__ = [
    "ATTEMPT_COLUMNS",
    "EXPORT_FORMAT_VERSION",
    "GRADED",
    "KEY_POINT_COLUMNS",
    "LIST_SEPARATOR",
    "LOCAL_USER",
    "MIGRATIONS",
    "RETRY_AFTER_FEEDBACK",
    "SAVED",
    "SUBMITTED",
    "TREND_WINDOW",
    "UNGRADED",
    "AttemptRecord",
    "AttemptStore",
    "Clock",
    "CompetencySummary",
    "Export",
    "FollowUpRecord",
    "Revision",
    "ScorePoint",
    "SessionRecord",
    "StoreError",
    "Submission",
    "UTCDateTime",
    "collect_export",
    "export_csv",
    "export_json",
    "export_key_points_csv",
    "metadata",
    "migrate",
    "migration",
    "migrations_table",
    "storable_text",
    "summary_of",
    "utcnow",
]
