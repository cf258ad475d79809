"""The attempt store: schema, migrations, queries and export.

Importers use the names below; the modules are `schema` (current tables), `migrations` (the
schema's history), `database` (opening a URL), `records` (what queries return), `attempts`
(the store) and `export` (CSV and JSON).
"""

from bot.errors import StoreError
from bot.store.attempts import AttemptStore, storable_text
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
    SessionRecord,
)
from bot.store.schema import LOCAL_USER, Clock, UTCDateTime, metadata, migrations_table, utcnow

__all__ = [
    "ATTEMPT_COLUMNS",
    "EXPORT_FORMAT_VERSION",
    "KEY_POINT_COLUMNS",
    "LIST_SEPARATOR",
    "LOCAL_USER",
    "MIGRATIONS",
    "RETRY_AFTER_FEEDBACK",
    "TREND_WINDOW",
    "AttemptRecord",
    "AttemptStore",
    "Clock",
    "CompetencySummary",
    "Export",
    "FollowUpRecord",
    "SessionRecord",
    "StoreError",
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
    "utcnow",
]
