"""Talk to an atom: ``atomnb package``, ``deploy``, ``trigger``, ``cancel``, ``download``."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from atomnb.cli.present import print_outcome
from atomnb.cli.root import ATOM_URL, EXIT_FAILED, cli, loose_workspace
from atomnb.errors import WorkspaceNotFoundError

if TYPE_CHECKING:
    from atomnb.atom.package import Package

__all__: list[str] = []


def package_of(notebook: Path) -> Package:
    """The notebook's package; outside any workspace, a one-notebook package.

    A saved notebook is a process even with no ``atomnb.toml`` around it: the
    package then holds the notebook, the files it reads (its ``data/`` folder or
    ``atomnb.include`` globs), the notebooks it calls, and a generated
    ``atomnb.toml`` — so the atom gets the same kind of package as from a workspace.
    """
    import tempfile

    from atomnb.atom.package import build_package, unpack_package
    from atomnb.components import Workspace

    try:
        Workspace.find(notebook)
    except WorkspaceNotFoundError:
        pass
    else:
        return build_package(notebook)
    folder = loose_workspace(notebook.resolve().parent)
    click.echo(
        f"note: no atomnb.toml above {notebook.name}: packaging it on its own "
        "(the notebook, its data/ folder, the notebooks it calls)",
        err=True,
    )
    loose = build_package(notebook, folder)
    with tempfile.TemporaryDirectory(prefix="atomnb-package-") as tmp:
        root = Path(tmp) / folder.name
        unpack_package(loose.data, root)
        (root / "atomnb.toml").write_text(
            f'# a one-notebook package, made by atomnb\n[workspace]\nname = "{notebook.stem}"\n',
            encoding="utf-8",
        )
        return build_package(root / loose.notebook)


@cli.command()
@click.argument("notebook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
def package(notebook: Path, output: Path | None) -> None:
    """Build a process's deployment package (a zip) without deploying it."""
    from atomnb._files import write_bytes_atomically

    built = package_of(notebook)
    target = output or Path(f"{notebook.stem}.atomnb.zip")
    write_bytes_atomically(target, built.data)
    click.echo(
        f"wrote {target} ({len(built.data) / 1024:.0f} KiB): process {notebook.stem}, "
        f"notebook {built.notebook}, content {built.content_hash[:12]}"
    )


@cli.command()
@click.argument("notebook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@ATOM_URL
@click.option("--env", "environment", default=None, help="Environment (default: default).")
@click.option("--schedule", metavar="CRON", help="Cron expression (six fields: seconds last).")
@click.option("--timezone", default=None, help="Time zone of the schedule (default UTC).")
@click.option("--catch-up", type=click.Choice(["once", "skip"]), default=None, help="Default once.")
@click.option("--timeout", type=float, default=None, help="Whole-execution limit (s).")
@click.option("--retries", type=int, default=None, help="Retries of a failed run (default 0).")
@click.option("--retry-delay", type=float, default=None, help="First backoff (s, default 5).")
@click.option("--max-concurrent", type=int, default=None, help="Runs at once (default 1).")
@click.option(
    "--overlap",
    type=click.Choice(["queue", "skip"]),
    default=None,
    help="A fire time while a run is on: queue it (default) or skip it.",
)
@click.option("--notify-webhook", metavar="URL", help="POST a JSON summary on failure.")
@click.option("--notify-email", multiple=True, metavar="ADDRESS", help="Email on failure.")
@click.option("--notify-success", is_flag=True, help="Notify on success too.")
@click.option(
    "--listen",
    "listen",
    multiple=True,
    metavar="URL",
    help="Consume a stream into executions: redis://host/stream?group=g (or nats://).",
)
def deploy(
    notebook: Path,
    atom_url: str | None,
    environment: str | None,
    schedule: str | None,
    timezone: str | None,
    catch_up: str | None,
    timeout: float | None,
    retries: int | None,
    retry_delay: float | None,
    max_concurrent: int | None,
    overlap: str | None,
    notify_webhook: str | None,
    notify_email: Sequence[str],
    notify_success: bool,
    listen: Sequence[str],
) -> None:
    """Deploy a process notebook (with its components), or a built package, as a new version.

    NOTEBOOK may be a package from ``atomnb package`` (a ``.zip``). Options not
    given here come from the notebook's metadata (``atomnb.deploy``), where a
    process can say how it wants to run (retries, timeout, schedule …).
    ``--listen`` is written into the deployed notebook's metadata (``atomnb.listen``),
    so the setting belongs to the version: a rollback listens as that version did.
    """
    from atomnb.atom.client import AtomClient
    from atomnb.atom.package import deploy_defaults, read_package

    notify: dict[str, Any] = {}
    if notify_webhook:
        notify["webhook"] = notify_webhook
    if notify_email:
        notify["email"] = list(notify_email)
    if notify and notify_success:
        notify["on"] = ["failure", "success"]
    given = {
        "environment": environment,
        "schedule": schedule,
        "timezone": timezone,
        "catch_up": catch_up,
        "timeout_s": timeout,
        "retries": retries,
        "retry_delay_s": retry_delay,
        "max_concurrent": max_concurrent,
        "overlap": overlap,
        "notify": notify or None,
    }
    if notebook.suffix == ".zip":
        package, declared = read_package(notebook.read_bytes())
    else:
        package, declared = package_of(notebook), deploy_defaults(notebook)
    options = declared | {k: v for k, v in given.items() if v is not None}
    if listen:
        package = listening(package, list(listen))
    with AtomClient(atom_url) as client:
        answer = client.deploy(package, **options)
    d = answer["deployment"]
    state = "deployed" if answer["created"] else "unchanged, still"
    when = f", schedule {d['schedule']} ({d['timezone']})" if d.get("schedule") else ""
    click.echo(f"{state} {d['process']} v{d['version']} on {client.url}{when}")


def listening(package: Package, urls: list[str]) -> Package:
    """``package`` with ``atomnb.listen = urls`` in its notebook's metadata (URLs checked)."""
    import json
    import tempfile

    from atomnb.atom.package import build_package, unpack_package
    from atomnb.connectors.streams.common import ListenSpec

    for url in urls:
        ListenSpec.parse(url)  # a bad URL is refused here, naming the problem
    with tempfile.TemporaryDirectory(prefix="atomnb-listen-") as tmp:
        root = Path(tmp) / "package"
        unpack_package(package.data, root)
        notebook = root.joinpath(*package.notebook.split("/"))
        content = json.loads(notebook.read_text(encoding="utf-8"))
        content.setdefault("metadata", {}).setdefault("atomnb", {})["listen"] = urls
        notebook.write_text(json.dumps(content, indent=1, ensure_ascii=False), encoding="utf-8")
        return build_package(notebook)


@cli.command()
@click.argument("process")
@ATOM_URL
@click.option("-p", "--parameter", "parameters", nargs=2, multiple=True, metavar="NAME VALUE")
@click.option(
    "-s", "--secret", "secrets", nargs=2, multiple=True, metavar="NAME REF", help="env:/file:"
)
@click.option("--wait", is_flag=True, help="Wait for the execution to finish.")
def trigger(
    process: str,
    atom_url: str | None,
    parameters: Sequence[tuple[str, str]],
    secrets: Sequence[tuple[str, str]],
    wait: bool,
) -> None:
    """Run a deployed process on an atom now."""
    from atomnb.atom.client import AtomClient
    from atomnb.atom.serialize import record_from_dict
    from atomnb.components import resolve_secret

    values = {name: resolve_secret(ref, name=name) for name, ref in secrets}
    with AtomClient(atom_url) as client:
        record = record_from_dict(client.trigger(process, dict(parameters), values, wait=wait))
    if wait:
        print_outcome(record)
        if not record.status.ok:
            sys.exit(EXIT_FAILED)
    else:
        click.echo(f"execution {record.id} {record.status.value}")


@cli.command()
@click.argument("execution_id")
@ATOM_URL
def cancel(execution_id: str, atom_url: str | None) -> None:
    """Cancel a queued or running execution on an atom."""
    from atomnb.atom.client import AtomClient

    with AtomClient(atom_url) as client:
        answer = client.cancel(execution_id)
    click.echo(f"execution {answer['id']} {answer['status']}")


@cli.command()
@click.argument("execution_id")
@ATOM_URL
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
def download(execution_id: str, atom_url: str | None, output: Path | None) -> None:
    """Download an execution's output notebook from an atom."""
    from atomnb._files import write_bytes_atomically
    from atomnb.atom.client import AtomClient

    with AtomClient(atom_url) as client:
        record = client.execution(execution_id)
        data = client.output_notebook(record["id"])
    target = output or Path(f"{record['process']}-{record['id']}.ipynb")
    write_bytes_atomically(target, data)
    click.echo(f"wrote {target}")
