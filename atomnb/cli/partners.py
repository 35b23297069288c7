"""`atomnb partners`: B2B trading partners and their acknowledgements (issue 16).

``list`` and ``show`` read the workspace's partner components (with an
environment's overrides, and the last control numbers used from the store);
``overdue`` lists interchanges sent whose acknowledgement is later than the
partner allows — from a store (the workspace's, ``--store URL`` or an atom's
``--home``) or from a running atom (``--atom URL``) — and with ``--notify``
posts each one once to its partner's webhook.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from atomnb.cli.present import JSON_OPTION, echo_json, show_grid
from atomnb.cli.root import ATOM_URL, Options, cli
from atomnb.errors import ConfigError

__all__: list[str] = []


@cli.group("partners")
def partners() -> None:
    """B2B trading partners: show them, control numbers, overdue acknowledgements."""


@partners.command("list")
@click.option("--env", metavar="NAME", help="Apply this environment's overrides.")
@JSON_OPTION
@click.pass_obj
def partners_list(options: Options, env: str | None, as_json: bool) -> None:
    """List the partner components with their ids, standard and acknowledgement."""
    from atomnb.components.partners import list_partners, load_partner

    workspace = options.find_workspace()
    found = [load_partner(name, workspace, env) for name in list_partners(workspace)]
    if as_json:
        echo_json([_summary(p) for p in found])
        return
    rows = [
        (p.name, p.standard, p.version, p.sender_key, p.ack_expect, p.ack_send, p.validation)
        for p in found
    ]
    if not rows:
        click.echo("no partners: add components/partners/NAME.yaml (or %atomnb partner)")
        return
    header = ("PARTNER", "STANDARD", "VERSION", "THEIR ID", "THEY ACK", "WE ACK", "VALIDATION")
    show_grid(header, rows)


@partners.command("show")
@click.argument("name")
@click.option("--env", metavar="NAME", help="Apply this environment's overrides.")
@JSON_OPTION
@click.pass_obj
def partners_show(options: Options, name: str, env: str | None, as_json: bool) -> None:
    """Show partner NAME's settings and the last control numbers sent to it."""
    from atomnb.components.partners import load_partner
    from atomnb.store import ExecutionStore
    from atomnb.store.b2b import B2BStore

    workspace = options.find_workspace()
    partner = load_partner(name, workspace, env)
    store = ExecutionStore.open(workspace.store_url(options.store))
    try:
        numbers = B2BStore(store).last_numbers(name)
    finally:
        store.close()
    shown = {**_summary(partner), "last_control_numbers": numbers}
    if as_json:
        echo_json(shown)
        return
    for key, value in shown.items():
        click.echo(f"{key}: {value}")


def _summary(p: Any) -> dict[str, Any]:
    return {
        "name": p.name,
        "standard": p.standard,
        "version": p.version,
        "usage": p.usage,
        "their_id": p.sender_key,
        "our_id": f"{p.us.isa_qualifier}:{p.us.isa_id}"
        if p.standard == "x12"
        else f"{p.us.unb_qualifier}:{p.us.unb_id}",
        "documents": [f"{t} {d}" for t, d in p.documents],
        "acknowledgement": {
            "expect": p.ack_expect,
            "send": p.ack_send,
            "ta1": p.ta1,
            "within_s": p.ack_within.total_seconds(),
        },
        "validation": p.validation,
        "duplicate_window_s": p.duplicate_window.total_seconds(),
        "transport": p.transport,
        "as2": None if p.as2 is None else {"as2_id": p.as2.as2_id, "url": p.as2.url},
        "source": p.source,
    }


@partners.command("overdue")
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    help="An atom's folder, on its machine: read its store directly.",
)
@click.option("--store", "store_url", metavar="URL", help="The store URL to read.")
@ATOM_URL
@click.option("--notify", is_flag=True, help="Post each overdue one once to its partner's webhook.")
@JSON_OPTION
@click.pass_obj
def partners_overdue(
    options: Options,
    home: Path | None,
    store_url: str | None,
    atom_url: str | None,
    notify: bool,
    as_json: bool,
) -> None:
    """List interchanges sent whose acknowledgement is overdue (exit 1 when there are any)."""
    if atom_url and (home or store_url):
        raise ConfigError("give --atom (the API) or --home/--store (a store), not both")
    if atom_url:
        from atomnb.atom.client import AtomClient

        with AtomClient(atom_url, timeout_s=60) as client:
            found = client.overdue_acknowledgements(notify=notify)
    else:
        found = _overdue_from_store(options, home, store_url, notify)
    if as_json:
        echo_json(found)
    elif not found:
        click.echo("no overdue acknowledgements")
    else:
        rows = [
            (s["partner"], s.get("interchange_control_number") or s.get("message_id") or "",
             s["expect"], s["sent_at"], s["due_at"], _missing(s))
            for s in found
        ]  # fmt: skip
        show_grid(("PARTNER", "INTERCHANGE / MESSAGE", "EXPECTS", "SENT", "DUE", "MISSING"), rows)
    if found:
        raise SystemExit(1)


def _missing(sent: dict[str, Any]) -> str:
    """What is still unanswered: "groups IN 7, IN 8" or "interchange" (older atoms: "")."""
    missing = sent.get("missing") or []
    groups = [
        f"{m.get('group', '')} {m.get('number', '')}".strip() for m in missing if "number" in m
    ]
    if groups:
        return "groups " + ", ".join(groups)
    if any("mdn" in m for m in missing):
        return "AS2 MDN"
    return "interchange" if missing else ""


def _overdue_from_store(
    options: Options, home: Path | None, store_url: str | None, notify: bool
) -> list[dict[str, Any]]:
    from atomnb.b2b.as2.records import As2Records, mdn_windows, overdue_messages
    from atomnb.b2b.reconcile import notify_overdue
    from atomnb.components.partners import list_partners, load_partner
    from atomnb.errors import WorkspaceNotFoundError
    from atomnb.store import ExecutionStore
    from atomnb.store.b2b import B2BStore

    url = store_url or options.store
    if home is not None:
        from atomnb.atom.home import AtomHome

        if not (home / "atom.toml").is_file():
            raise ConfigError(f"{home} is not an atom's home (no atom.toml)")
        url = url or AtomHome(home).store_url
    if url is None:
        url = options.find_workspace().store_url()
    store = ExecutionStore.open(url)
    try:
        b2b = B2BStore(store)
        try:
            workspace = options.find_workspace()
            known = [load_partner(n, workspace) for n in list_partners(workspace)]
        except WorkspaceNotFoundError:
            if notify:
                raise
            known = []
        if notify:
            notify_overdue(b2b, known)
        late = overdue_messages(As2Records(store), mdn_windows(known))
        return [s.to_dict() for s in b2b.overdue()] + late
    finally:
        store.close()
