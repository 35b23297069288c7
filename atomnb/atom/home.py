"""An atom's home folder: its identity, deployed packages, execution outputs and settings.

``atom.toml`` in the home holds the atom's id (made once, so a restarted atom
recognises its own unfinished executions in a shared store) and optional
settings: worker count, retention, SMTP for notifications, an API token and
the listener size limit. Nothing in it is a secret value: an SMTP password and
the API token are secret references (``env:``/``file:``).
"""

from __future__ import annotations

import platform
import re
import secrets
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atomnb._files import write_text_atomically
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


class AtomHome:
    """Paths inside an atom's home folder, and its settings."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.config_path = self.root / "atom.toml"
        self._config = self._load()

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
        values = dict(self._config.get("settings", {}))
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
        check = settings.overdue_check_s
        if isinstance(check, bool) or not isinstance(check, (int, float)) or check <= 0:
            raise ConfigError("overdue_check_s must be a number of seconds over 0", where=where)
        if settings.log_format not in ("text", "json"):
            raise ConfigError("log_format must be 'text' or 'json'", where=where)
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
        return self.root / "executions"

    @property
    def kernels_dir(self) -> Path:
        """Logs of warm kernels not yet given an execution.

        Inside the executions folder, so a log moves to its execution by a rename
        on one file system, also when the executions folder is a mount of its own.
        """
        return self.executions_dir / ".kernels"
