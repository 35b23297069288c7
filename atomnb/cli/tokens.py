"""Who may do what on an atom: `atomnb tokens` (API tokens with roles) and `atomnb audit`.

``atomnb tokens`` works two ways: on the atom's machine with ``--home`` (the
store directly, as ``atomnb atom start`` opens it: the first token of an atom is
made this way), or through the API of a running atom with ``--atom`` as an
admin. A new token is printed once; the store keeps only its SHA-256.
"""

from __future__ import annotations

import getpass
import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from atomnb.cli.root import ATOM_HOME, ATOM_STORE, ATOM_URL, cli
from atomnb.errors import ConfigError

__all__: list[str] = []

_ROLES = ("viewer", "operator", "admin")


@cli.group()
def tokens() -> None:
    """Make, list and revoke an atom's API tokens (roles: viewer, operator, admin)."""


class _Direct:
    """The token store of an atom's home, and its audit log (the CLI's changes are recorded)."""

    def __init__(self, home: Path, store_url: str | None) -> None:
        from atomnb.atom.home import AtomHome
        from atomnb.store import ExecutionStore
        from atomnb.store.audit import AuditLog
        from atomnb.store.tokens import TokenStore

        if not (home / "atom.toml").is_file():
            raise ConfigError(
                f"{home} is not an atom's home (no atom.toml)",
                hint="give the folder the atom was started with: atomnb atom start --home PATH",
            )
        atom_home = AtomHome(home)
        self.atom_id = atom_home.atom_id
        self.store = ExecutionStore.open(store_url or atom_home.store_url)
        self.tokens = TokenStore(self.store)
        self.audit = AuditLog(self.store)
        self.actor = f"{getpass.getuser()}@{socket.gethostname()}"[:100]

    def record(self, action: str, target: str, detail: dict[str, Any]) -> None:
        from atomnb.store import utcnow
        from atomnb.store.audit import AuditEntry

        self.audit.record(
            AuditEntry(
                at=utcnow(),
                actor=self.actor,
                role="admin",
                action=action,
                target=target,
                outcome=200,
                detail=detail | {"via": "cli --home"},
                source="cli",
                atom=self.atom_id,
            )
        )


@contextmanager
def _direct(home: Path, store_url: str | None) -> Iterator[_Direct]:
    direct = _Direct(home, store_url)
    try:
        yield direct
    finally:
        direct.store.engine.dispose()


def _client(atom_url: str | None) -> Any:
    from atomnb.atom.client import AtomClient

    return AtomClient(atom_url, timeout_s=60)


def _check_where(home: Path | None, atom_url: str | None) -> None:
    if home is not None and atom_url is not None:
        raise ConfigError("give --home (the store directly) or --atom (the API), not both")


@tokens.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(_ROLES), required=True, help="What the token may do.")
@ATOM_HOME
@ATOM_STORE
@ATOM_URL
def tokens_create(
    name: str, role: str, home: Path | None, store_url: str | None, atom_url: str | None
) -> None:
    """Create token NAME with a role and print it once (it is stored hashed)."""
    _check_where(home, atom_url)
    if home is not None:
        with _direct(home, store_url) as direct:
            _, token = direct.tokens.create(name, role, created_by=direct.actor)
            direct.record("token.create", name, {"name": name, "role": role})
    else:
        with _client(atom_url) as client:
            answer = client.create_token(name, role)
        token = answer["token"]
    click.echo(f"token {name} ({role}) created; it is shown this once, keep it safe:", err=True)
    click.echo(token)


@tokens.command("list")
@ATOM_HOME
@ATOM_STORE
@ATOM_URL
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def tokens_list(
    home: Path | None, store_url: str | None, atom_url: str | None, as_json: bool
) -> None:
    """List an atom's tokens: names, roles, when made, last used and revoked (never the token)."""
    _check_where(home, atom_url)
    if home is not None:
        with _direct(home, store_url) as direct:
            found = [t.as_dict() for t in direct.tokens.all()]
    else:
        with _client(atom_url) as client:
            found = client.tokens()
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    if not found:
        click.echo("no tokens: the atom answers loopback callers without one")
        return
    from atomnb.cli.present import grid

    rows = [
        (
            t["name"],
            t["role"],
            _when(t["created_at"]),
            t.get("created_by") or "",
            _when(t.get("last_used_at")),
            _when(t.get("revoked_at")) if t.get("revoked_at") else "",
        )
        for t in found
    ]
    header = ("NAME", "ROLE", "CREATED", "BY", "LAST USED", "REVOKED")
    click.echo(grid([header, *rows]))


@tokens.command("revoke")
@click.argument("name")
@ATOM_HOME
@ATOM_STORE
@ATOM_URL
def tokens_revoke(
    name: str, home: Path | None, store_url: str | None, atom_url: str | None
) -> None:
    """Revoke token NAME: it stops working at once, and so do its console sessions."""
    _check_where(home, atom_url)
    if home is not None:
        with _direct(home, store_url) as direct:
            direct.tokens.revoke(name)
            direct.record("token.revoke", name, {"name": name})
    else:
        with _client(atom_url) as client:
            client.revoke_token(name)
    click.echo(f"token {name} revoked")


@cli.command("audit")
@ATOM_URL
@click.option("--since", metavar="TIME", help="ISO time, e.g. 2026-12-04T10:00:00Z.")
@click.option("--actor", metavar="NAME", help="Only this token's changes.")
@click.option("--action", metavar="ACTION", help="e.g. deploy, rollback, or secret for secret.*.")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines (one entry a line).")
def audit(
    atom_url: str | None,
    since: str | None,
    actor: str | None,
    action: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Show an atom's audit log: who changed what, when and from where, newest first."""
    with _client(atom_url) as client:
        page = client.audit(since=since, actor=actor, action=action, limit=limit)
    entries = page["entries"]
    if as_json:
        for entry in entries:
            click.echo(json.dumps(entry, sort_keys=True))
        return
    if not entries:
        click.echo("no changes recorded")
        return
    from atomnb.cli.present import grid

    rows = [
        (
            _when(e["at"]),
            e["actor"],
            e.get("role") or "",
            e["action"],
            e.get("target") or "",
            str(e.get("outcome") or ""),
            ", ".join(f"{k} {v}" for k, v in (e.get("detail") or {}).items()),
            e.get("source") or "",
        )
        for e in entries
    ]
    header = ("WHEN", "WHO", "ROLE", "ACTION", "TARGET", "STATUS", "DETAIL", "FROM")
    click.echo(grid([header, *rows]))
    if page.get("next_before"):
        click.echo(f"… older entries: --limit more, or the API with before={page['next_before']}")


def _when(stamp: str | None) -> str:
    """An ISO time as people read it: to the second, in UTC."""
    if not stamp:
        return "—"
    from datetime import UTC, datetime

    moment = datetime.fromisoformat(stamp)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
