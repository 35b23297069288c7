"""``atomnb secrets``: keep secrets encrypted on an atom; processes name them ``atom:NAME``.

A value is read from stdin (when it is not a terminal) or from a hidden prompt,
never from an argument, so it does not land in the shell's history or in the
process list. Nothing brings a value back: the atom lists names and times only.
"""

from __future__ import annotations

import sys

import click

from atomnb.cli.present import grid
from atomnb.cli.root import ATOM_URL, cli
from atomnb.errors import ConfigError

__all__: list[str] = []


@cli.group()
def secrets() -> None:
    """Keep secrets encrypted on an atom; reference them as atom:NAME."""


@secrets.command("key")
def secrets_key() -> None:
    """Print a new Fernet key for an atom (keep it in a key file, mode 600)."""
    from atomnb.atom.secrets import generate_key

    click.echo(generate_key())


@secrets.command("set", context_settings={"allow_extra_args": True})
@click.argument("name")
@ATOM_URL
@click.pass_context
def secrets_set(ctx: click.Context, name: str, atom_url: str | None) -> None:
    """Set secret NAME on an atom; the value comes from stdin or a hidden prompt."""
    from atomnb.atom.secrets.client import SecretsClient
    from atomnb.components.environments import check_atom_secret_name

    if ctx.args:  # not echoed: it is most likely the value itself
        raise ConfigError(
            "secrets set takes no value argument: it would stay in the shell's history",
            hint=f"pipe it in (atomnb secrets set {name} --atom URL < file) or answer the prompt",
        )
    check_atom_secret_name(name)
    value = _read_value(name)
    with SecretsClient(atom_url, timeout_s=60) as client:
        answer = client.set_secret(name, value)
        where = client.url
    click.echo(f"secret {name} {'created' if answer['created'] else 'replaced'} on {where}")


@secrets.command("list")
@ATOM_URL
def secrets_list(atom_url: str | None) -> None:
    """List an atom's secrets: names and times, never values."""
    from atomnb.atom.secrets.client import SecretsClient

    with SecretsClient(atom_url, timeout_s=60) as client:
        found = client.secrets()
    if not found:
        click.echo("no secrets on this atom")
        return
    rows = [(s["name"], s["created_at"], s["updated_at"]) for s in found]
    click.echo(grid([("NAME", "CREATED", "UPDATED"), *rows]))


@secrets.command("delete")
@click.argument("name")
@ATOM_URL
def secrets_delete(name: str, atom_url: str | None) -> None:
    """Delete secret NAME from an atom."""
    from atomnb.atom.secrets.client import SecretsClient

    with SecretsClient(atom_url, timeout_s=60) as client:
        client.delete_secret(name)
    click.echo(f"secret {name} deleted")


@secrets.command("rotate")
@ATOM_URL
def secrets_rotate(atom_url: str | None) -> None:
    """Re-encrypt every secret of an atom under its primary (first) key."""
    from atomnb.atom.secrets.client import SecretsClient

    with SecretsClient(atom_url, timeout_s=300) as client:
        answer = client.rotate_secrets()
    click.echo(f"{answer['rotated']} secret(s) re-encrypted under the primary key")


def _read_value(name: str) -> str:
    """The value from stdin (piped) or a hidden, confirmed prompt; one final newline dropped."""
    from atomnb.atom.secrets import MAX_SECRET_BYTES

    stdin = sys.stdin
    if stdin is None or stdin.isatty():
        value = str(click.prompt(f"value of {name}", hide_input=True, confirmation_prompt=True))
    else:
        value = stdin.read(MAX_SECRET_BYTES + 3)
        if value.endswith("\n"):
            value = value[:-2] if value.endswith("\r\n") else value[:-1]
        if len(value.encode("utf-8")) > MAX_SECRET_BYTES:
            raise ConfigError(f"a secret value is limited to {MAX_SECRET_BYTES} bytes")
    if not value:
        raise ConfigError(
            "no value given", hint=f"pipe it in: atomnb secrets set {name} --atom URL < file"
        )
    return value
