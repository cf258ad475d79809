"""Whose settings these are, and keeping them: each user's last choice is saved in the store
(migration m007), so a new chat, a reload or a restart starts from it. `ctx` is the signed-in
user's (bot.web.identity)."""

from __future__ import annotations

from typing import Any

from bot.interview import EngineContext
from bot.web import choices


def load(ctx: EngineContext) -> dict[str, Any]:
    """The user's saved settings, completed by the defaults."""
    return choices.valid(ctx, ctx.store.user_settings(ctx.user_id))


def save(ctx: EngineContext, settings: dict[str, Any]) -> dict[str, Any]:
    """Keep `settings` (made valid first) for the user; returns what was kept."""
    kept = choices.valid(ctx, settings)
    ctx.store.save_user_settings(ctx.user_id, kept)
    return kept
