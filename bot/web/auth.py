"""Signing in, through Chainlit's own authentication: password login (users in the store),
header login behind an authenticating reverse proxy, and Chainlit's OAuth providers.

Each is on when configured: INTERVIEW_BOT_PASSWORD_LOGIN, INTERVIEW_BOT_AUTH_HEADER, and any
provider's OAUTH_* variables (Chainlit reads those itself). With none, nobody signs in and the app
is the local user's; such an app is served on loopback only (`refuse_open_without_login`).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable

import chainlit as cl
from starlette.datastructures import Headers

from bot.accounts import AUTH_SECRET_VAR, admit, auth_secret, sign_in
from bot.config import Settings, get_settings
from bot.errors import ConfigError
from bot.store import AttemptStore

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
StoreOf = Callable[[], AttemptStore]
SignedIn = Awaitable[cl.User | None]


def oauth_providers() -> list[str]:
    """The OAuth providers whose variables are set (Chainlit's own test)."""
    from chainlit.oauth_providers import get_configured_oauth_providers

    return list(get_configured_oauth_providers())


def login_configured(settings: Settings) -> bool:
    return settings.login_configured or bool(oauth_providers())


def refuse_open_without_login(host: str, settings: Settings) -> None:
    """A ConfigError for a server reachable beyond this machine that nobody signs in to."""
    if host.lower() in LOOPBACK_HOSTS or host.startswith("127.") or login_configured(settings):
        return
    raise ConfigError(
        f"refusing to serve on {host} without a login: anyone who can reach it would share "
        "one user's answers and history. Set INTERVIEW_BOT_PASSWORD_LOGIN=true (and add users "
        "with `interview-bot users add NAME`), or INTERVIEW_BOT_AUTH_HEADER=X-Forwarded-User "
        "behind an authenticating proxy, or a Chainlit OAuth provider (OAUTH_GITHUB_CLIENT_ID "
        "and OAUTH_GITHUB_CLIENT_SECRET, ...); or serve on 127.0.0.1"
    )


def install(store: StoreOf) -> None:
    """Register the configured ways to sign in with Chainlit (when its app module loads), and
    give Chainlit the secret its login tokens are signed with."""
    settings = get_settings()
    if settings.password_login:
        cl.password_auth_callback(_password_login(store))
    if settings.auth_header is not None:
        cl.header_auth_callback(_header_login(store, settings.auth_header))
    if oauth_providers():
        cl.oauth_callback(_oauth_login(store))
    if login_configured(settings):
        os.environ[AUTH_SECRET_VAR] = auth_secret(settings.data_dir)


def _user(user_id: str | None, provider: str) -> cl.User | None:
    return None if user_id is None else cl.User(identifier=user_id, metadata={"via": provider})


def _password_login(store: StoreOf) -> Callable[[str, str], SignedIn]:
    async def password_login(username: str, password: str) -> cl.User | None:
        user_id = await asyncio.to_thread(sign_in, store(), username, password)
        return _user(user_id, "password")

    return password_login


def _header_login(store: StoreOf, header: str) -> Callable[[Headers], SignedIn]:
    async def header_login(headers: Headers) -> cl.User | None:
        name = headers.get(header)
        if not name:
            return None
        return _user(await asyncio.to_thread(admit, store(), name), "header")

    return header_login


def _oauth_login(
    store: StoreOf,
) -> Callable[[str, str, dict[str, str], cl.User, str | None], SignedIn]:
    async def oauth_login(
        provider_id: str,
        token: str,
        raw_user_data: dict[str, str],
        default_user: cl.User,
        id_token: str | None = None,
    ) -> cl.User | None:
        # one namespace per provider: a GitHub login "alice" is not the password user "alice"
        name = f"{provider_id}.{default_user.identifier}"
        return _user(await asyncio.to_thread(admit, store(), name), provider_id)

    return oauth_login
