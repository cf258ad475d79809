"""Accounts: user names, password hashes, signing in, and the secret that signs login tokens.

Passwords are hashed with bcrypt (a cost of 12, its salt in the hash); the plain password is
never stored, logged or returned. Signing in goes through `sign_in` (password login) or `admit`
(a name vouched for by a proxy's header or an OAuth provider): both refuse disabled users.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from pathlib import Path

from bot.config import PRIVATE_FILE_MODE, private_dir
from bot.errors import BotError
from bot.store import LOCAL_USER, AttemptStore

USER_NAME = re.compile(r"[a-z0-9][a-z0-9._@+-]{0,127}")  # lower case: names match in any case
BCRYPT_ROUNDS = 12
BCRYPT_MAX_BYTES = 72  # bcrypt reads no further; a longer password is refused, not cut
MIN_PASSWORD_CHARS = 8
SECRET_FILE = "chainlit-auth-secret"  # in the data dir, readable by the owner only
AUTH_SECRET_VAR = "CHAINLIT_AUTH_SECRET"  # Chainlit signs its login tokens with it
# Checked against when the name is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = "$2b$12$nFNSglM6UJU7g/zqFM/.n.4NRbrz70thaFMZk8NQJHXWBR7oDPNbG"


def user_name(raw: str) -> str:
    """The store's id for a user name as typed or sent by a proxy: trimmed, lower case;
    a BotError when it cannot be one (the local user's name is kept for single-user mode)."""
    name = raw.strip().lower()
    if not USER_NAME.fullmatch(name):
        raise BotError(
            f"'{raw}' is not a user name: up to 128 of a-z 0-9 . _ @ + -, starting with a "
            "letter or digit"
        )
    if name == LOCAL_USER:
        raise BotError(f"'{LOCAL_USER}' is the single-user install's own user, not an account")
    return name


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise BotError(f"a password has at least {MIN_PASSWORD_CHARS} characters")
    if len(password.encode("utf-8")) > BCRYPT_MAX_BYTES:
        raise BotError(f"a password has at most {BCRYPT_MAX_BYTES} bytes (UTF-8)")


def hash_password(password: str) -> str:
    import bcrypt

    check_password(password)
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(BCRYPT_ROUNDS)).decode("ascii")


def password_matches(password: str, hashed: str) -> bool:
    import bcrypt

    given = password.encode("utf-8")
    if len(given) > BCRYPT_MAX_BYTES:
        return False
    try:
        return bool(bcrypt.checkpw(given, hashed.encode("ascii")))
    except ValueError:  # not a bcrypt hash
        return False


def sign_in(store: AttemptStore, name: str, password: str) -> str | None:
    """The user's id when `password` is theirs and they are enabled, else None."""
    try:
        user_id = user_name(name)
    except BotError:
        user_id = None
    hashed = store.password_hash(user_id) if user_id else None
    matches = password_matches(password, hashed or _DUMMY_HASH)
    return user_id if hashed is not None and matches else None


def admit(store: AttemptStore, name: str) -> str | None:
    """The id of a user vouched for by a proxy or an OAuth provider, created on first sight;
    None for a name that cannot be one or a disabled user."""
    try:
        user_id = user_name(name)
    except BotError:
        return None
    return None if store.admit_user(user_id).disabled else user_id


def may_continue(store: AttemptStore, user_id: str) -> bool:
    """Whether a signed-in user still may use the app (not disabled or deleted since)."""
    found = store.find_user(user_id)
    return found is not None and not found.disabled


def auth_secret(data_dir: Path) -> str:
    """The secret Chainlit signs login tokens with: CHAINLIT_AUTH_SECRET when set, else the
    one kept in the data dir, made once (owner-only) at the first start that needs it."""
    given = os.environ.get(AUTH_SECRET_VAR)
    if given:
        return given
    path = private_dir(data_dir) / SECRET_FILE
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_urlsafe(48) + "\n")
    secret = path.read_text(encoding="ascii").strip()
    if len(secret) < 32:
        raise BotError(f"{path} holds no usable secret: delete it to have a new one made")
    return secret
