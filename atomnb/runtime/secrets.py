"""Every secret a run could get hold of, so the executor can scrub what it did not hand over.

A process is given secret parameters, but it can also resolve credentials itself:
through a connection component (``ab.connection("shop_api")``, its password
``env:SHOP_PASSWORD``), an environment's ``[connections.*]`` override or a
reference written in the notebook (``BearerAuth("env:TOKEN")``). Any of those may
end up printed, logged or tracked. ``run_secrets`` collects every such reference
(``env:`` and ``file:`` ones of every environment extension too, since a process
may name another environment; ``atom:`` ones only of its own, so a run never
receives, nor makes the atom decrypt, another environment's atom secrets),
resolves those it can here (a reference that fails is skipped: scrubbing never
fails a run), and gives:

* the values, for the executor's scrubber (kernel log, notebook, trace, store rows);
* the references, handed to the kernel (``ATOMNB_SECRET_REFS``) so it scrubs the
  files it writes itself — references only, never values;
* the values of ``atom:NAME`` references, which only the atom can decrypt, for
  the kernel's environment (``ATOMNB_ATOM_SECRET__<NAME>``), where the kernel's
  ``resolve_secret`` finds them.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from atomnb.components import Workspace, load_environment, resolve_secret
from atomnb.components.environments import (
    DEFAULT_ENVIRONMENT,
    atom_secret_env_name,
    is_secret_key,
)
from atomnb.process.secrets import SECRET_REFS_ENV

__all__ = ["RunSecrets", "collect_references", "run_secrets"]

# A reference written in a notebook's code, in quotes: "env:TOKEN", 'file:/run/key', "atom:X".
_QUOTED_REFERENCE = re.compile(r"""["']((?:env|atom):[A-Za-z_][A-Za-z0-9_]*|file:/[^"'\s]+)["']""")
_REFERENCE = re.compile(r"^(?:env|atom):[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class RunSecrets:
    """The secrets one run may see: references, the values resolved here, the kernel's share."""

    references: list[str] = field(default_factory=list)
    values: list[str] = field(default_factory=list)
    kernel_env: dict[str, str] = field(default_factory=dict)


def run_secrets(
    workspace: Workspace, notebook: Path | None = None, environment: str | None = None
) -> RunSecrets:
    """Collect and resolve every secret reference a run of ``notebook`` in ``environment``
    could use."""
    references = collect_references(workspace, notebook, environment)
    found = RunSecrets(references=references)
    for reference in references:
        try:
            value = resolve_secret(reference, name="scrubbed secret")
        except Exception:  # not set here, unreadable, unknown kind: nothing to scrub
            continue
        found.values.append(value)
        kind, _, target = reference.partition(":")
        if kind == "atom":
            with contextlib.suppress(Exception):
                found.kernel_env[atom_secret_env_name(target)] = value
    found.kernel_env[SECRET_REFS_ENV] = json.dumps(references)
    return found


def collect_references(
    workspace: Workspace, notebook: Path | None = None, environment: str | None = None
) -> list[str]:
    """Secret references of the environments, connection components and the notebook's code
    (``atom:`` ones of other environments than ``environment`` left out)."""
    found: dict[str, None] = {}  # ordered, without repeats
    extensions = workspace.extensions_dir
    names = sorted(p.stem for p in extensions.glob("*.toml")) if extensions.is_dir() else []
    for name in names:
        try:
            loaded = load_environment(extensions, name)
        except Exception:  # a broken extension is reported by the run that uses it
            continue
        refs = [r for r in loaded.secrets.values() if _usable(r)]
        for settings in loaded.connections.values():
            refs += _references_in(settings)
        own = name == (environment or DEFAULT_ENVIRONMENT)
        found.update(dict.fromkeys(r for r in refs if own or not r.startswith("atom:")))
    folder = workspace.components_dir / "connections"
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        try:
            body = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue
        found.update(dict.fromkeys(_references_in(body)))
    if notebook is not None:
        found.update(dict.fromkeys(_references_in_code(notebook)))
    return list(found)


def _usable(reference: object) -> bool:
    return isinstance(reference, str) and (
        bool(_REFERENCE.match(reference)) or reference.startswith("file:/")
    )


def _references_in(settings: Any, secret: bool = False) -> Iterable[str]:
    """References in settings: ``env:``/``atom:`` anywhere, ``file:`` only under a secret key
    (a data file's path is not a credential to read)."""
    if isinstance(settings, dict):
        for key, value in settings.items():
            yield from _references_in(value, is_secret_key(str(key)))
    elif isinstance(settings, list):
        for item in settings:
            yield from _references_in(item, secret)
    elif isinstance(settings, str) and (
        _REFERENCE.match(settings) or (secret and settings.startswith("file:/"))
    ):
        yield settings


def _references_in_code(notebook: Path) -> Iterable[str]:
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError, AttributeError):
        return []
    found: list[str] = []
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            text = "".join(source) if isinstance(source, list) else str(source)
            found += _QUOTED_REFERENCE.findall(text)
    return found
