"""``chatter keys``: make a strong API key, and check the configured ones against the rule that
``chatter serve`` holds them to at start-up."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from chatter.cli.application import JsonOpt, guarded, stderr_console

keys = typer.Typer(
    name="keys",
    help="API keys for `chatter serve` (CHATTER_API_KEYS).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@keys.command()
def create(
    user: Annotated[str, typer.Option("--user", help="Whose key it is.")] = "local",
    role: Annotated[str, typer.Option("--role", help="viewer, analyst, admin or another.")] = (
        "viewer"
    ),
    as_json: JsonOpt = False,
) -> None:
    """Print a new strong API key. It is chk_ and 32 random bytes, for the CHATTER_API_KEYS
    file; with --json, a document with the key, its user and role, and the file entry."""

    def action() -> None:
        from chatter.api.key_strength import estimate, new_key, weakness
        from chatter.api.keys import KeyFileError, check_role

        if not user.strip():
            raise KeyFileError("--user must name someone.")
        check_role(role, user)
        key = new_key()
        while weakness(key, user=user, role=role):  # 256 random bits: in practice never
            key = new_key()
        entry = {"user": user, "role": role}
        if as_json:
            bits = round(estimate(key, user=user, role=role).bits)
            document = {**entry, "key": key, "estimated_bits": bits, "entry": {key: entry}}
            sys.stdout.write(json.dumps(document) + "\n")
            return
        sys.stdout.write(key + "\n")
        stderr_console().print(
            f"A new key of user {user!r} (role {role}): add it to the file CHATTER_API_KEYS "
            f'names, as "<key>": {json.dumps(entry)}. It is shown only now.',
            soft_wrap=True,
            markup=False,
        )

    guarded(as_json, action)


@keys.command()
def check(as_json: JsonOpt = False) -> None:
    """Check the API keys as `chatter serve` does. A weak key fails with exit code 2 and the
    reason, naming its user (never the key)."""

    def action() -> None:
        from chatter.api.keys import GENERATED_KEY_FILE, load_keys
        from chatter.settings import get_settings

        settings = get_settings()
        generated = settings.home / GENERATED_KEY_FILE
        if settings.api_keys is None and not generated.exists():
            users: list[dict[str, str]] = []  # serve would make one admin key
        else:
            ring = load_keys(settings)
            users = [{"user": p.user, "role": p.role} for p in ring.keys.values()]
        if as_json:
            sys.stdout.write(json.dumps({"ok": True, "keys": users}) + "\n")
            return
        where = settings.api_keys or generated
        said = f"{len(users)} key(s) in {where}, all strong" if users else "No keys yet"
        if not users:
            said += ": `chatter serve` makes one admin key at its first start"
        typer.echo(said + ".")

    guarded(as_json, action)
