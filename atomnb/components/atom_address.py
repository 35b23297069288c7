"""Which atom: one answer for the CLI, the ``%atomnb`` magics and ``ab.deploy``/``ab.trigger``.

The address comes from, in order: the caller (``--atom URL``, ``atom=``), the
``ATOMNB_ATOM_URL`` environment variable, then ``atom = "http://…"`` in the
``[workspace]`` table of the workspace's ``atomnb.toml``. The bearer token for
an atom with an ``api_token`` comes from ``ATOMNB_ATOM_TOKEN`` only (a token is
a secret, so it is never read from a file a project commits).

It lives with the workspace (layer 1) because both front ends need it: the
notebook (``atomnb.nb``) and the atom client (``atomnb.atom``) may not import
each other.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from atomnb._types import PathLike
from atomnb.components.workspace import MARKER, Workspace
from atomnb.errors import AtomError, ConfigError, WorkspaceNotFoundError

__all__ = [
    "ATOM_TOKEN_ENV",
    "ATOM_URL_ENV",
    "NO_ATOM_HINT",
    "AtomAddress",
    "locate_atom",
    "require_atom",
]

ATOM_URL_ENV = "ATOMNB_ATOM_URL"
ATOM_TOKEN_ENV = "ATOMNB_ATOM_TOKEN"
NO_ATOM_HINT = (
    f"give --atom URL (atom= in Python), set {ATOM_URL_ENV}=http://HOST:PORT, or add "
    f'atom = "http://HOST:PORT" under [workspace] in {MARKER}; '
    "start one with: atomnb atom start --home DIR --port PORT"
)


@dataclass(frozen=True)
class AtomAddress:
    """An atom's base URL, where that URL came from, and the bearer token to send (if any)."""

    url: str
    source: str  # "--atom", "ATOMNB_ATOM_URL" or the atomnb.toml path
    token: str | None = field(default=None, repr=False)

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"} if self.token else {}

    def describe(self) -> str:
        """``the atom at URL (from SOURCE)``: for messages that must say where they looked."""
        return f"the atom at {self.url} (from {self.source})"


def locate_atom(url: str | None = None, *, start: PathLike | None = None) -> AtomAddress | None:
    """The configured atom, or None when no caller, environment or atomnb.toml names one.

    ``start`` is where the workspace is looked for (default: the current folder).
    """
    token = os.environ.get(ATOM_TOKEN_ENV) or None
    if url:
        return AtomAddress(_checked(url, "--atom"), "--atom", token)
    from_env = os.environ.get(ATOM_URL_ENV, "").strip()
    if from_env:
        return AtomAddress(_checked(from_env, ATOM_URL_ENV), ATOM_URL_ENV, token)
    try:
        workspace = Workspace.find(start)
    except WorkspaceNotFoundError:
        return None
    configured = workspace.atom_url
    if not configured:
        return None
    marker = str(workspace.root / MARKER)
    return AtomAddress(_checked(configured, marker), marker, token)


def require_atom(url: str | None = None, *, start: PathLike | None = None) -> AtomAddress:
    """Like ``locate_atom``, but no atom is a one-paragraph error saying how to name one."""
    address = locate_atom(url, start=start)
    if address is None:
        here = Path(start or Path.cwd())
        raise AtomError(f"no atom is configured for {here}", hint=NO_ATOM_HINT)
    return address


def _checked(url: str, source: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"the atom's address {url!r} is not an http(s) URL",
            where=source,
            hint='for example: "http://127.0.0.1:8765"',
        )
    return url.strip().rstrip("/")
