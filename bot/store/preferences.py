"""What each user chose last in the settings, kept in the store so that a new chat, a reload
or a server restart starts from it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from bot.store.schema import Clock, user_settings_table


class Preferences:
    """The settings half of AttemptStore (it supplies the engine, the clock and the user)."""

    engine: Engine
    clock: Clock
    _ensure_user: Callable[[Connection, str], None]

    def user_settings(self, user_id: str) -> dict[str, Any]:
        """The settings `user_id` saved last; empty when they never saved any."""
        t = user_settings_table
        with self.engine.connect() as conn:
            text = conn.scalar(sa.select(t.c.settings_json).where(t.c.user_id == user_id))
        found = json.loads(text) if text else {}
        return found if isinstance(found, dict) else {}

    def save_user_settings(self, user_id: str, settings: dict[str, Any]) -> None:
        """Replace what `user_id` saved (must be JSON-serialisable)."""
        t = user_settings_table
        values = {"settings_json": json.dumps(settings, sort_keys=True), "updated_at": self.clock()}
        with self.engine.begin() as conn:
            self._ensure_user(conn, user_id)
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            insert = dialect.insert(t).values(user_id=user_id, **values)
            # two tabs may save at once: the later one wins, neither fails
            conn.execute(insert.on_conflict_do_update(index_elements=[t.c.user_id], set_=values))
