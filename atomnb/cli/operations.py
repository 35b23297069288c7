"""Run-time management of atoms: `atomnb atoms`, `schedules`, `rollback`, `undeploy`, `deployments`.

Every command talks to a running atom's API (``--atom URL``, else
``$ATOMNB_ATOM_URL``, else ``atom =`` in atomnb.toml), which acts for the whole
store: ``atomnb atoms pause ID`` pauses any atom of the store through the one
named. Listings are tables for people, or JSON with ``--json`` for scripts.

::

    atomnb atoms                      the atoms on the store: status, resources, work
    atomnb atoms pause|resume ID      an atom starts no new work / starts again
    atomnb atoms restart ID           finish what runs, then replace the process
    atomnb schedules                  schedules, paused or not, and their next fire
    atomnb schedules pause|resume P   a paused schedule's slots are skipped
    atomnb rollback P [--to N]        make an earlier version active again
    atomnb undeploy P                 take a process off: no fires, no triggers
    atomnb deployments P              its versions: who deployed, who activated
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from atomnb.cli.present import JSON_OPTION, grid
from atomnb.cli.root import ATOM_URL, cli

if TYPE_CHECKING:
    from atomnb.atom.client import AtomClient

__all__: list[str] = []


def _client(ctx: click.Context, atom_url: str | None) -> AtomClient:
    """The atom from this command's ``--atom``, else its group's, else the configured one."""
    from atomnb.atom.client import AtomClient

    given = atom_url or (ctx.parent.params.get("atom_url") if ctx.parent else None)
    return AtomClient(given)


def _print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=True))


# -- atoms ------------------------------------------------------------------------------------


@cli.group(invoke_without_command=True)
@ATOM_URL
@JSON_OPTION
@click.pass_context
def atoms(ctx: click.Context, atom_url: str | None, as_json: bool) -> None:
    """The atoms on the store with status and resources; pause, resume or restart one."""
    if ctx.invoked_subcommand is not None:
        return
    with _client(ctx, atom_url) as client:
        found = client.atoms()
        where = client.url
    if as_json:
        _print_json(found)
        return
    click.secho(f"atoms on the store of {where}", err=True, dim=True)
    if not found:
        click.echo("no atoms recorded")
        return
    click.echo(atoms_table(found))


def atoms_table(found: list[dict[str, Any]]) -> str:
    """One line per atom: what an operator checks first."""
    header = ("ATOM", "STATUS", "VERSION", "WORKERS", "RUNNING", "QUEUED", "UPTIME", "CPU")
    rows: list[tuple[str, ...]] = [(*header, "MEMORY", "DISK", "HOST", "URL")]
    for a in found:
        status = a["status"] + (" paused" if a.get("paused") else "")
        if a.get("restarting"):
            status += " restarting"
        if a["status"] != "online":
            status += f" (last seen {_ago(a.get('heartbeat_at'))})"
        res = a.get("resources") or {}
        rows.append(
            (
                str(a["id"]) + (" *" if a.get("this") else ""),
                str(status),
                str(a.get("version") or "-"),
                _text(a.get("workers")),
                str(a.get("running", 0)),
                str(a.get("queued", 0)),
                _duration(a.get("uptime_s")),
                f"{res['cpu_percent']:.0f}%" if "cpu_percent" in res else "-",
                _used(res, "memory"),
                _used(res, "disk"),
                str(a.get("host") or "-"),
                str(a.get("url") or "-"),
            )
        )
    clusters = [_cluster_lines(a) for a in found if (a.get("resources") or {}).get("cluster")]
    return "\n".join([grid(rows), *clusters, "* the atom that answered"])


def _cluster_lines(atom: dict[str, Any]) -> str:
    """The Dask workers an atom with ``executor = "dask"`` runs its executions on."""
    cluster = atom["resources"]["cluster"]
    workers = cluster.get("workers") or []
    lines = [f"cluster of {atom['id']}: {cluster.get('scheduler', '?')}, {len(workers)} worker(s)"]
    for w in workers:
        threads = w.get("nthreads", "?")
        busy = f", {w['executing']} executing" if w.get("executing") else ""
        lines.append(
            f"  {w.get('name') or '-'} {w.get('address', '?')} ({threads} thread(s){busy})"
        )
    return "\n".join(lines)


@atoms.command("pause")
@click.argument("atom_id")
@ATOM_URL
@click.pass_context
def atoms_pause(ctx: click.Context, atom_id: str, atom_url: str | None) -> None:
    """Pause an atom: it starts no new work (others on the store take its queue); runs finish."""
    with _client(ctx, atom_url) as client:
        a = client.pause_atom(atom_id)
    running = f"; {a['running']} running execution(s) finish" if a.get("running") else ""
    click.echo(f"atom {a['id']} paused{running}")


@atoms.command("resume")
@click.argument("atom_id")
@ATOM_URL
@click.pass_context
def atoms_resume(ctx: click.Context, atom_id: str, atom_url: str | None) -> None:
    """Resume a paused atom: it takes work again."""
    with _client(ctx, atom_url) as client:
        a = client.resume_atom(atom_id)
    click.echo(f"atom {a['id']} resumed ({a['queued']} queued)")


@atoms.command("restart")
@click.argument("atom_id")
@ATOM_URL
@click.option(
    "--wait",
    "wait_s",
    type=float,
    default=None,
    help="Seconds to let running executions finish (default: until they have).",
)
@click.pass_context
def atoms_restart(
    ctx: click.Context, atom_id: str, atom_url: str | None, wait_s: float | None
) -> None:
    """Restart an atom gracefully: no new work, running executions finish, then a fresh process."""
    with _client(ctx, atom_url) as client:
        answer = client.restart_atom(atom_id, wait_s)
    click.echo(
        f"atom {answer['atom']} restarting once {answer['running']} running execution(s) "
        "have finished; it comes back on the same address"
    )


# -- schedules --------------------------------------------------------------------------------


@cli.group(invoke_without_command=True)
@ATOM_URL
@JSON_OPTION
@click.pass_context
def schedules(ctx: click.Context, atom_url: str | None, as_json: bool) -> None:
    """The deployed processes' schedules, paused or not, with their next fire; pause or resume."""
    if ctx.invoked_subcommand is not None:
        return
    with _client(ctx, atom_url) as client:
        found = client.schedules()
    if as_json:
        _print_json(found)
        return
    if not found:
        click.echo("no schedules")
        return
    rows: list[tuple[str, ...]] = [("PROCESS", "CRON", "TIME ZONE", "STATE", "NEXT FIRE (UTC)")]
    rows += [
        (
            s["process"],
            s["cron"],
            s["timezone"],
            "paused" if s.get("paused") else ("on" if s.get("enabled", True) else "off"),
            _when(s.get("next_fire_at")),
        )
        for s in found
    ]
    click.echo(grid(rows))


@schedules.command("pause")
@click.argument("process")
@ATOM_URL
@click.pass_context
def schedules_pause(ctx: click.Context, process: str, atom_url: str | None) -> None:
    """Pause a schedule: its slots pass recorded as skipped, none runs; a redeploy keeps it."""
    with _client(ctx, atom_url) as client:
        s = client.pause_schedule(process)
    click.echo(f"schedule of {s['process']} paused ({s['cron']}, {s['timezone']})")


@schedules.command("resume")
@click.argument("process")
@ATOM_URL
@click.pass_context
def schedules_resume(ctx: click.Context, process: str, atom_url: str | None) -> None:
    """Resume a schedule from its next slot (the skipped ones are not caught up)."""
    with _client(ctx, atom_url) as client:
        s = client.resume_schedule(process)
    click.echo(f"schedule of {s['process']} resumed: next fire {_when(s.get('next_fire_at'))}")


# -- deployments ------------------------------------------------------------------------------


@cli.command()
@click.argument("process")
@ATOM_URL
@click.option("--to", type=click.IntRange(min=1), metavar="VERSION", help="Default: the previous.")
def rollback(process: str, atom_url: str | None, to: int | None) -> None:
    """Make an earlier version of a process active again, with its own schedule and settings."""
    from atomnb.atom.client import AtomClient

    with AtomClient(atom_url) as client:
        answer = client.rollback(process, to)
        where = client.url
    d = answer["deployment"]
    if not answer["changed"]:
        click.echo(f"{process} v{d['version']} is already the active version on {where}")
        return
    was = f" (was v{answer['from_version']})" if answer.get("from_version") else ""
    when = f", schedule {d['schedule']} ({d['timezone']})" if d.get("schedule") else ""
    click.echo(f"rolled back {process} to v{d['version']} on {where}{was}{when}")


@cli.command()
@click.argument("process")
@ATOM_URL
def undeploy(process: str, atom_url: str | None) -> None:
    """Take a process off an atom: its schedule stops and triggers are refused."""
    from atomnb.atom.client import AtomClient

    with AtomClient(atom_url) as client:
        client.undeploy(process)
        where = client.url
    click.echo(f"undeployed {process} from {where} (its history stays; deploy brings it back)")


@cli.command()
@click.argument("process")
@ATOM_URL
@JSON_OPTION
def deployments(process: str, atom_url: str | None, as_json: bool) -> None:
    """Every version of a deployed process: when, who deployed it, which is active."""
    from atomnb.atom.client import AtomClient

    with AtomClient(atom_url) as client:
        history = client.deployment_history(process)
    if as_json:
        _print_json(history)
        return
    rows: list[tuple[str, ...]] = [
        ("VERSION", "ACTIVE", "DEPLOYED", "BY", "ACTIVATED", "BY", "ENV", "SCHEDULE")
    ]
    rows += [
        (
            f"v{d['version']}",
            "yes" if d["active"] else "",
            _when(d.get("deployed_at")),
            d.get("deployed_by") or "-",
            _when(d.get("activated_at")),
            d.get("activated_by") or "-",
            d["environment"],
            d.get("schedule") or "-",
        )
        for d in history
    ]
    click.echo(grid(rows))


# -- for people -------------------------------------------------------------------------------


def _text(value: Any) -> str:
    return "-" if value is None else str(value)


def _stamp(value: str | None) -> datetime | None:
    if not value:
        return None
    stamp = datetime.fromisoformat(value)
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _when(value: str | None) -> str:
    stamp = _stamp(value)
    return stamp.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if stamp else "-"


def _ago(value: str | None) -> str:
    stamp = _stamp(value)
    if stamp is None:
        return "never"
    return _duration((datetime.now(UTC) - stamp).total_seconds()) + " ago"


def _duration(seconds: float | None) -> str:
    """2 d 3 h, 3 h 05 min, 4 min 10 s, 12 s."""
    if seconds is None:
        return "-"
    s = max(0, int(seconds))
    days, s = divmod(s, 86400)
    hours, s = divmod(s, 3600)
    minutes, s = divmod(s, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {s:02d} s"
    return f"{s} s"


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def _used(resources: dict[str, Any], what: str) -> str:
    used, total = resources.get(f"{what}_used"), resources.get(f"{what}_total")
    if used is None or not total:
        return "-"
    return f"{_size(used)} / {_size(total)} ({100 * used / total:.0f}%)"
