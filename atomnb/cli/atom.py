"""``atomnb atom start``: run an atom in the foreground."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from atomnb.cli.present import table
from atomnb.cli.root import EXIT_FAILED, cli
from atomnb.store import ExecutionRecord, Trigger

__all__ = []


@cli.group()
def atom() -> None:
    """Run an atom: the host that runs deployed processes on schedules and on request."""


@atom.command("start")
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The atom's folder: its id, deployed versions, outputs and (default) SQLite store.",
)
@click.option(
    "--port", type=int, default=8765, show_default=True, envvar="ATOMNB_PORT", show_envvar=True
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--store", "store_url", metavar="URL", help="Store URL (default: SQLite in home).")
@click.option("--workers", type=int, default=None, help="Executions at once (default 2).")
@click.option("--misfire-grace", type=float, default=None, help="Seconds before a fire is missed.")
@click.option(
    "--stop-grace", type=float, default=30.0, show_default=True, help="On Ctrl-C or SIGTERM (s)."
)
@click.option(
    "--stale-after",
    type=float,
    default=60.0,
    show_default=True,
    help="Seconds without a heartbeat before another atom on the store counts as dead.",
)
@click.option(
    "--deploy",
    "deploy_paths",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Deploy this notebook, or every process notebook in this folder, at start "
    "(a process: a notebook with a parameters cell, unless its metadata says atomnb.process).",
)
@click.option(
    "--env",
    "environment",
    default="default",
    show_default=True,
    envvar="ATOMNB_ENV",
    show_envvar=True,
    help="Environment for --deploy.",
)
@click.option(
    "--secret-key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Keys of the atom's secret store, one per line, the first primary "
    "(default: $ATOMNB_SECRET_KEYS; make one with: atomnb secrets key).",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default=None,
    help="Log lines as text or one JSON object each (default: [settings] log_format, text).",
)
@click.option(
    "--executor",
    type=click.Choice(["local", "dask"]),
    default=None,
    help="Where executions run: this atom's workers, or a Dask cluster's "
    "(default: [settings] executor, local).",
)
@click.option(
    "--dask-scheduler",
    metavar="ADDRESS",
    default=None,
    help="The Dask scheduler for --executor dask, e.g. tcp://10.0.0.5:8786.",
)
@click.option(
    "--outputs",
    metavar="URL",
    default=None,
    help="Where executions write outputs, an fsspec URL every Dask worker reaches: "
    "file:///shared/folder or object storage (s3://bucket/prefix).",
)
@click.option("--run-deployed", is_flag=True, help="Run each process from --deploy once.")
@click.option("--exit-after-run", is_flag=True, help="Stop once those runs have finished.")
def atom_start(
    home: Path,
    port: int,
    host: str,
    store_url: str | None,
    workers: int | None,
    misfire_grace: float | None,
    stop_grace: float,
    stale_after: float,
    deploy_paths: Sequence[Path],
    environment: str,
    secret_key_file: Path | None,
    log_format: str | None,
    executor: str | None,
    dask_scheduler: str | None,
    outputs: str | None,
    run_deployed: bool,
    exit_after_run: bool,
) -> None:
    """Start an atom in the foreground; Ctrl-C or SIGTERM stops it cleanly."""
    from atomnb.atom.server import serve
    from atomnb.cli.discover import process_notebooks

    if log_format is not None:
        from atomnb.atom.observe.logs import configure_logging

        configure_logging(log_format, explicit=True)

    notebooks, skipped = process_notebooks(deploy_paths)
    if skipped:
        names = ", ".join(p.name for p in skipped)
        click.echo(
            f"not deployed, not processes (no parameters cell or atomnb.process false): {names}"
        )
    outcome: list[ExecutionRecord] = []

    def after_start(atom: Any) -> bool:
        from atomnb.atom.deployer import DeployOptions
        from atomnb.atom.package import deploy_defaults
        from atomnb.cli.deploy import package_of

        names = []
        for notebook in notebooks:
            package = package_of(notebook)
            declared = deploy_defaults(notebook) | {"environment": environment}
            deployment, _ = atom.deployer.deploy(
                package.data, DeployOptions(notebook=package.notebook, **declared)
            )
            names.append(deployment.process)
            click.echo(f"deployed {deployment.process} v{deployment.version} ({environment})")
        if run_deployed:
            queued = [atom.trigger(name, trigger=Trigger.MANUAL) for name in names]
            outcome.extend(atom.wait(r.id, timeout_s=600) for r in queued)
            click.echo(table(outcome))
            ok = sum(r.status.ok for r in outcome)
            click.echo(f"{ok} of {len(outcome)} deployed process(es) succeeded")
        return exit_after_run

    serve(
        home,
        host=host,
        port=port,
        store_url=store_url,
        workers=workers,
        misfire_grace_s=misfire_grace,
        stop_grace_s=stop_grace,
        stale_after_s=stale_after,
        after_start=after_start if notebooks or exit_after_run else None,
        secret_key_file=secret_key_file,
        settings={"executor": executor, "dask_scheduler": dask_scheduler, "outputs": outputs},
    )
    if any(not r.status.ok for r in outcome):
        sys.exit(EXIT_FAILED)
