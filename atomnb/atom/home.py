"""An atom's home folder: its identity, deployed packages, execution outputs and settings.

``atom.toml`` in the home holds the atom's id (made once, so a restarted atom
recognises its own unfinished executions in a shared store) and optional
settings: worker count, retention, SMTP for notifications, an API token and
the listener size limit. Nothing in it is a secret value: an SMTP password and
the API token are secret references (``env:``/``file:``).
"""

from __future__ import annotations

import os
import platform
import re
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from atomnb._files import write_text_atomically
from atomnb.atom.molecule.outputs import RemoteOutputs, check_outputs, is_remote
from atomnb.components import resolve_secret
from atomnb.errors import ConfigError

__all__ = ["AtomHome", "AtomSettings"]


@dataclass(frozen=True)
class AtomSettings:
    """What ``atom.toml`` may set; defaults suit one atom on a laptop."""

    workers: int = 2
    retention_days: float = 30.0
    retention_count: int = 200  # output folders kept per process
    misfire_grace_s: float = 60.0  # a fire time later than this counts as missed
    smtp: dict[str, Any] = field(default_factory=dict)
    base_url: str | None = None  # how notifications link back to the dashboard
    #: A secret reference (``env:VAR`` or ``file:PATH``); when set, every API, listener
    #: and dashboard request must carry ``Authorization: Bearer <token>``.
    api_token: str | None = None
    listen_max_bytes: int = 50 * 1024 * 1024  # a bigger listener message answers 413
    idempotency_hours: float = 24.0  # how long an Idempotency-Key names its execution
    package_versions_kept: int = 10  # package folders kept per process, besides active/in use
    package_max_unpacked_bytes: int = 200 * 1024 * 1024  # a package unpacking to more: refused
    #: An OTLP/HTTP collector's base URL (``/v1/traces`` is added): traces of executions.
    otlp_endpoint: str | None = None
    log_format: str = "text"  # or "json": one JSON object per log line
    overdue_check_s: float = 60.0  # how often overdue B2B acknowledgements are looked for
    #: how often the stream listeners are matched to the deployments (``atomnb.listen``)
    streams_refresh_s: float = 2.0
    #: Where executions run: "local" (this atom's worker threads) or "dask" (a cluster's
    #: workers, ``dask_scheduler``; see ``atomnb.atom.molecule``).
    executor: str = "local"
    dask_scheduler: str | None = None  # e.g. "tcp://10.0.0.5:8786"
    #: Dask worker resources an execution of a process needs, by process name
    #: (``"*"``: every process without its own entry), e.g. ``{"report" = {"MEMORY" = 4e9}}``.
    dask_resources: dict[str, dict[str, float]] = field(default_factory=dict)
    #: Where execution outputs (notebooks, kernel logs, traces) go: an fsspec URL every
    #: worker and the atom can reach: ``file://`` (a shared folder) or object storage
    #: (``s3://bucket/prefix``, see ``atomnb.atom.molecule.outputs``).
    outputs: str | None = None
    #: fsspec storage options for ``outputs``; credentials only as secret references.
    outputs_options: dict[str, Any] = field(default_factory=dict)


#: Settings an operator may also give in the environment; ``atomnb atom start``'s
#: ``--executor``, ``--dask-scheduler`` and ``--outputs`` (``serve(settings=…)``) win.
_FROM_ENVIRONMENT = {
    "executor": "ATOMNB_EXECUTOR",
    "dask_scheduler": "ATOMNB_DASK_SCHEDULER",
    "outputs": "ATOMNB_OUTPUTS",
}
#: Settings also read from the ``[atom]`` table (``[settings]`` wins).
_FROM_ATOM_TABLE = ("executor", "dask_scheduler", "dask_resources", "outputs", "outputs_options")


class AtomHome:
    """Paths inside an atom's home folder, and its settings."""

    def __init__(self, root: Path, overrides: Mapping[str, Any] | None = None) -> None:
        """``overrides``: settings given on the command line; they win over all else."""
        self.root = root.resolve()
        self._overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
        self.root.mkdir(parents=True, exist_ok=True)
        self.config_path = self.root / "atom.toml"
        self._config = self._load()
        self._remote: RemoteOutputs | None = None

    def _load(self) -> dict[str, Any]:
        if not self.config_path.exists():
            node = re.sub(r"[^A-Za-z0-9-]", "-", platform.node())[:40] or "atom"
            atom_id = f"{node}-{secrets.token_hex(4)}"
            write_text_atomically(
                self.config_path,
                "# This atom's identity: keep it, so a restart recognises its own executions.\n"
                f'[atom]\nid = "{atom_id}"\n\n'
                "# [settings]\n# workers = 2\n# retention_days = 30\n# retention_count = 200\n"
                '# misfire_grace_s = 60\n# base_url = "http://127.0.0.1:8765"\n'
                '# api_token = "env:ATOMNB_ATOM_TOKEN"\n# listen_max_bytes = 52428800\n'
                "# idempotency_hours = 24\n# package_versions_kept = 10\n"
                "# package_max_unpacked_bytes = 209715200\n"
                '# [settings.smtp]\n# host = "127.0.0.1"\n# port = 25\n'
                '# sender = "atom@example.org"\n# password = "env:SMTP_PASSWORD"\n',
            )
        try:
            return tomllib.loads(self.config_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"not valid TOML: {exc}", where=str(self.config_path)) from None

    @property
    def atom_id(self) -> str:
        return str(self._config["atom"]["id"])

    def settings(self, **overrides: Any) -> AtomSettings:
        atom_table = self._config.get("atom", {})
        values = {k: atom_table[k] for k in _FROM_ATOM_TABLE if k in atom_table}
        values.update(self._config.get("settings", {}))
        values.update({k: os.environ[v] for k, v in _FROM_ENVIRONMENT.items() if os.environ.get(v)})
        values.update(self._overrides)
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            settings = AtomSettings(**values)
        except TypeError as exc:
            raise ConfigError(f"unknown setting: {exc}", where=str(self.config_path)) from None
        where = str(self.config_path)
        if settings.api_token is not None:
            if not isinstance(settings.api_token, str) or ":" not in settings.api_token:
                raise ConfigError(
                    "api_token must be a secret reference, not the token itself",
                    where=where,
                    hint='e.g. api_token = "env:ATOMNB_ATOM_TOKEN" or "file:/run/secrets/atom"',
                )
            if not resolve_secret(settings.api_token, name="api_token"):  # fails early
                raise ConfigError("the api_token secret is empty", where=where)
        for name in ("listen_max_bytes", "package_versions_kept", "package_max_unpacked_bytes"):
            limit = getattr(settings, name)
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
                raise ConfigError(f"{name} must be a positive whole number", where=where)
        for name in ("overdue_check_s", "streams_refresh_s"):
            check = getattr(settings, name)
            if isinstance(check, bool) or not isinstance(check, (int, float)) or check <= 0:
                raise ConfigError(f"{name} must be a number of seconds over 0", where=where)
        if settings.log_format not in ("text", "json"):
            raise ConfigError("log_format must be 'text' or 'json'", where=where)
        _check_executor(settings, where)
        hours = settings.idempotency_hours
        if isinstance(hours, bool) or not isinstance(hours, (int, float)) or not 0 < hours <= 87600:
            raise ConfigError("idempotency_hours must be over 0 and at most 87600", where=where)
        return settings

    @property
    def store_url(self) -> str:
        return f"sqlite:///{self.root / 'store.db'}"

    @property
    def deployments_dir(self) -> Path:
        return self.root / "deployments"

    def package_dir(self, process: str, version: int) -> Path:
        return self.deployments_dir / process / f"v{version}"

    @property
    def executions_dir(self) -> Path:
        """Execution outputs: the home's folder, or the shared ``outputs`` folder.

        With outputs on object storage this stays the home's folder: what the atom
        itself writes (documents handed to a run, a listener's answer) and runs.
        """
        outputs = self.outputs
        if outputs is None or is_remote(outputs):
            return self.root / "executions"
        return outputs_folder(outputs)

    @property
    def remote_outputs(self) -> RemoteOutputs | None:
        """The ``outputs`` location when it is object storage (else None)."""
        outputs = self.outputs
        if not is_remote(outputs):
            return None
        assert outputs is not None
        if self._remote is None or self._remote.url != outputs.rstrip("/"):
            self._remote = RemoteOutputs(outputs, self.outputs_options)
        return self._remote

    @property
    def outputs_options(self) -> dict[str, Any]:
        if "outputs_options" in self._overrides:
            return dict(self._overrides["outputs_options"])
        options = self._config.get("settings", {}).get(
            "outputs_options", self._config.get("atom", {}).get("outputs_options", {})
        )
        return dict(options)

    def read_output(self, execution_id: str, name: str) -> bytes | None:
        """One file of an execution's outputs (``kernel.log`` …), wherever it is kept."""
        path = self.executions_dir / execution_id / name
        if path.is_file():
            return path.read_bytes()
        remote = self.remote_outputs
        return remote.read(execution_id, name) if remote is not None else None

    def has_output(self, execution_id: str, name: str) -> bool:
        if (self.executions_dir / execution_id / name).is_file():
            return True
        remote = self.remote_outputs
        return remote is not None and remote.exists(execution_id, name)

    @property
    def outputs(self) -> str | None:
        """The ``outputs`` URL (settings, or $ATOMNB_OUTPUTS), if outputs are shared."""
        if self._overrides.get("outputs"):
            return str(self._overrides["outputs"])
        return os.environ.get(_FROM_ENVIRONMENT["outputs"]) or self._config.get("settings", {}).get(
            "outputs", self._config.get("atom", {}).get("outputs")
        )

    @property
    def kernels_dir(self) -> Path:
        """Logs of warm kernels not yet given an execution.

        Inside the executions folder, so a log moves to its execution by a rename
        on one file system, also when the executions folder is a mount of its own.
        """
        return self.executions_dir / ".kernels"


@lru_cache(maxsize=16)
def outputs_folder(url: str) -> Path:
    """The local folder of an ``outputs`` fsspec URL (``file://``, or a plain path)."""
    import fsspec

    try:
        fs, path = fsspec.core.url_to_fs(url)
    except (ValueError, ImportError) as exc:
        raise ConfigError(f"outputs: not a usable fsspec URL {url!r}: {exc}") from None
    if "file" not in fs.protocol and "local" not in fs.protocol:
        raise ConfigError(f"outputs: {url!r} is not a folder this machine mounts")
    return Path(path)


def _check_executor(settings: AtomSettings, where: str) -> None:
    if settings.executor not in ("local", "dask"):
        raise ConfigError(
            f"executor must be 'local' or 'dask', not {settings.executor!r}", where=where
        )
    if settings.executor == "dask" and not settings.dask_scheduler:
        raise ConfigError(
            "executor 'dask' needs the scheduler's address",
            where=where,
            hint='dask_scheduler = "tcp://HOST:8786" or atomnb atom start --dask-scheduler',
        )
    resources = settings.dask_resources
    if not isinstance(resources, dict) or not all(
        isinstance(v, dict)
        and all(isinstance(n, (int, float)) and not isinstance(n, bool) for n in v.values())
        for v in resources.values()
    ):
        raise ConfigError(
            "dask_resources maps process names to {RESOURCE = amount} tables", where=where
        )
    if settings.outputs is not None:  # fails early on one that cannot be used
        check_outputs(settings.outputs, settings.outputs_options)
        if not is_remote(settings.outputs):
            outputs_folder(settings.outputs)
