"""Who is asking: the signed-in user of the current chat, as the store knows them.

Every handler reaches the engine as this user (`user_context`); without a login configured the
app is the single-user install it always was, and every chat is the local user's.
"""

from __future__ import annotations

import chainlit as cl
from chainlit.auth import require_login

from bot.errors import BotError
from bot.interview import EngineContext
from bot.store import LOCAL_USER


def signed_in_user() -> str | None:
    """The current chat's signed-in user id, or None when nobody signed in."""
    user = cl.user_session.get("user")
    identifier = getattr(user, "identifier", None)
    return str(identifier) if identifier else None


def current_user_id() -> str:
    """The signed-in user's id; LOCAL_USER when the app has no login (single-user mode)."""
    found = signed_in_user()
    if found is not None:
        return found
    if require_login():  # Chainlit lets no chat in unsigned then; refuse rather than guess
        raise BotError("this chat has no signed-in user: sign in again")
    return LOCAL_USER


def user_context(base: EngineContext) -> EngineContext:
    """The process's engine context as the current chat's user."""
    return base.for_user(current_user_id())
