"""users: the accounts of a shared install (add, list, disable, enable, delete, reset-password)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from bot.cli.common import JsonOpt, app, err, out, print_json
from bot.config import get_settings
from bot.errors import BotError

if TYPE_CHECKING:
    from bot.store import AttemptStore

users = typer.Typer(
    no_args_is_help=True,
    help="Accounts for password login (INTERVIEW_BOT_PASSWORD_LOGIN=true); header and OAuth "
    "users appear here once they have signed in.",
)
app.add_typer(users, name="users")

NameArg = Annotated[str, typer.Argument(help="The user's name (sign-in name, lower case).")]
StdinOpt = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from the first line of stdin."),
]


def _store() -> AttemptStore:
    from bot.store import AttemptStore

    return AttemptStore.open(get_settings().effective_database_url)


def _password(from_stdin: bool) -> str:
    """The new password, checked, then hashed; from stdin or asked twice without echo."""
    from bot.accounts import hash_password

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    return hash_password(password)


@users.command("add")
def add(name: NameArg, password_stdin: StdinOpt = False) -> None:
    """Add a user who signs in with a password."""
    from bot.accounts import user_name

    user_id = user_name(name)
    hashed = _password(password_stdin)
    with _store() as store:
        store.add_user(user_id, password_hash=hashed)
    err.print(f"added user {escape(user_id)}", highlight=False)


@users.command("list")
def list_users(as_json: JsonOpt = False) -> None:
    """Every user: when they were added, whether they have a password, whether disabled."""
    with _store() as store:
        found = store.users()
    if as_json:
        print_json(
            [
                {
                    "id": u.id,
                    "created_at": u.created_at.isoformat(),
                    "password": u.has_password,
                    "disabled": u.disabled,
                }
                for u in found
            ]
        )
        return
    table = Table("user", "added", "password", "disabled")
    for u in found:
        table.add_row(
            u.id,
            f"{u.created_at:%Y-%m-%d %H:%M}",
            "yes" if u.has_password else "-",
            "yes" if u.disabled else "-",
        )
    out.print(table)


@users.command("disable")
def disable(name: NameArg) -> None:
    """Refuse the user's sign-in (their open chats are refused at their next start)."""
    _set_disabled(name, True)


@users.command("enable")
def enable(name: NameArg) -> None:
    """Let a disabled user sign in again."""
    _set_disabled(name, False)


def _set_disabled(name: str, disabled: bool) -> None:
    with _store() as store:
        store.set_disabled(name.strip().lower(), disabled)
    err.print(f"{'disabled' if disabled else 'enabled'} {escape(name)}", highlight=False)


@users.command("reset-password")
def reset_password(name: NameArg, password_stdin: StdinOpt = False) -> None:
    """Give the user a new password."""
    user_id = name.strip().lower()
    with _store() as store:
        store.user(user_id)  # an unknown name fails before the prompt
        store.set_password_hash(user_id, _password(password_stdin))
    err.print(f"new password set for {escape(user_id)}", highlight=False)


@users.command("delete")
def delete(
    name: NameArg,
    purge: Annotated[
        bool,
        typer.Option(
            "--purge",
            help="Also remove every row of theirs: attempts, their earlier versions, sessions, "
            "follow-ups and review cards.",
        ),
    ] = False,
) -> None:
    """Delete a user (one with attempts or sessions only with --purge)."""
    from bot.store import LOCAL_USER

    user_id = name.strip().lower()
    if user_id == LOCAL_USER:
        raise BotError(f"'{LOCAL_USER}' is the single-user install's own user; it stays")
    with _store() as store:
        removed = store.delete_user(user_id, purge=purge)
    counts = ", ".join(f"{n} {table}" for table, n in removed.rows.items() if n)
    err.print(f"deleted {escape(user_id)} ({escape(counts)})", highlight=False)
