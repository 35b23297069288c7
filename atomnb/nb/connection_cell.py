"""``%%atomnb connection NAME``: define a connection in a cell; test, list and edit them.

The cell body is small readable YAML — the connector ``kind`` and its settings::

    %%atomnb connection shop_db
    kind: database
    url: postgresql+psycopg://shop@db.internal/shop
    password: ask              # a password field; or env:SHOP_DB_PASSWORD, file:/run/secrets/x

Secrets never land in the notebook or the component file: a setting given as
``ask`` is read with a password field (``getpass``, which Jupyter shows as a
masked input), kept only in this kernel's environment as
``ATOMNB_SECRET_<NAME>_<KEY>``, and the component stores the reference
``env:ATOMNB_SECRET_…`` — set that variable where the process runs unattended.
A literal secret typed into the body is refused before anything is saved.
"""

from __future__ import annotations

import getpass
import html
import os
import re
from collections.abc import Callable, Sequence
from typing import Any

import yaml

from atomnb.components.environments import is_secret_key
from atomnb.connectors.base import ConnectionTest
from atomnb.connectors.connections import (
    ConnectionSpec,
    connection,
    list_connections,
    load_connection_spec,
    save_connection,
    test_connection,
)
from atomnb.errors import AtomnbError, ConfigError

__all__ = ["ASK", "ask_secrets", "parse_body", "run", "secret_env_name"]

#: How a secret marked ``ask`` is read: a password field in Jupyter (ipykernel's getpass).
ASK: Callable[[str], str] = getpass.getpass
_ASK_WORD = "ask"


def run(
    shell: Any, words: Sequence[str], cell: str | None, *, env: str | None, kind: str | None
) -> None:
    """Dispatch ``%atomnb connection …``: a cell defines; ``test``, ``list``, ``edit`` act."""
    if cell is not None:
        if len(words) != 1:
            raise ConfigError("usage: %%atomnb connection NAME, then the settings in the cell")
        _define(words[0], cell, kind)
        return
    action, *rest = words
    if action == "list" and not rest:
        _show(_list_html())
    elif action == "test" and len(rest) == 1:
        _show(_test_html(rest[0], _test(rest[0], env)))
    elif action == "edit" and len(rest) == 1:
        _edit(shell, rest[0])
    else:
        raise ConfigError(
            "usage: %atomnb connection list | test NAME [--env ENV] | edit NAME, "
            "or %%atomnb connection NAME as a cell magic"
        )


def parse_body(name: str, body: str, kind: str | None = None) -> ConnectionSpec:
    """The cell body (YAML: kind and settings) as a ConnectionSpec, secrets not yet asked."""
    try:
        data = yaml.safe_load(body) if body.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigError(
            f"connection {name!r}: the cell is not readable YAML{line}: "
            f"{getattr(exc, 'problem', exc)}",
            hint="one `key: value` per line, e.g. `kind: database` then `url: sqlite:///x.db`",
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"connection {name!r}: the cell must hold `key: value` lines")
    settings = dict(data)
    found_kind = settings.pop("kind", None) or kind
    if not found_kind:
        raise ConfigError(
            f"connection {name!r} needs a kind",
            hint="add a line `kind: database` (or http, files …), or pass --kind",
        )
    return ConnectionSpec(name, str(found_kind), settings)


def secret_env_name(connection_name: str, dotted_key: str) -> str:
    """Where an asked secret lives in this kernel: ``ATOMNB_SECRET_<NAME>_<KEY>``."""
    text = f"ATOMNB_SECRET_{connection_name}_{dotted_key}".upper()
    return re.sub(r"[^A-Z0-9_]", "_", text)


def ask_secrets(spec: ConnectionSpec, ask: Callable[[str], str] | None = None) -> ConnectionSpec:
    """Replace every ``ask`` secret by an env reference to a value read from a password field."""
    reader = ask or ASK

    def walk(settings: dict[str, Any], prefix: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in settings.items():
            dotted = f"{prefix}{key}"
            if isinstance(value, dict):
                out[key] = walk(value, dotted + ".")
            elif isinstance(value, str) and value.strip().lower() == _ASK_WORD:
                if not is_secret_key(str(key)):
                    raise ConfigError(
                        f"connection {spec.name!r}: {dotted} is not a secret setting; "
                        "only secrets can be asked for"
                    )
                out[key] = _ask_one(spec.name, dotted, reader)
            else:
                out[key] = value
        return out

    return ConnectionSpec(spec.name, spec.kind, walk(dict(spec.settings), ""))


def _ask_one(name: str, dotted: str, reader: Callable[[str], str]) -> str:
    variable = secret_env_name(name, dotted)
    try:
        value = reader(f"{name} {dotted}: ")
    except Exception as exc:  # no stdin (papermill, a plain script): say what to do instead
        raise ConfigError(
            f"connection {name!r}: cannot ask for {dotted} here ({type(exc).__name__})",
            hint=f"run the cell in Jupyter, or set {variable} and write {dotted}: env:{variable}",
        ) from None
    if not value:
        raise ConfigError(f"connection {name!r}: no value entered for {dotted}")
    os.environ[variable] = value
    return f"env:{variable}"


def _define(name: str, body: str, kind: str | None) -> None:
    spec = parse_body(name, body, kind)
    try:  # before asking anything: a literal secret typed into the cell is refused
        ConnectionSpec(name, spec.kind, _without_asks(spec.settings)).check_secrets()
    except ConfigError as exc:
        raise ConfigError(
            exc.message,
            hint="delete the value from this cell (cells are saved with the notebook) and "
            "write `ask` for a password field, or env:VAR / file:/path",
        ) from None
    spec = ask_secrets(spec)
    path = save_connection(spec)
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td><code>{html.escape(str(v))}</code></td></tr>"
        for k, v in _flat(spec.settings)
    )
    _show(
        f"<div>connection <b>{html.escape(name)}</b> ({html.escape(spec.kind)}) saved to "
        f"<code>{html.escape(str(path))}</code></div><table>{rows}</table>"
        f"<div>test it: <code>%atomnb connection test {html.escape(name)}</code></div>"
    )


def _without_asks(settings: dict[str, Any]) -> dict[str, Any]:
    return {
        k: _without_asks(v)
        if isinstance(v, dict)
        else ("" if isinstance(v, str) and v.strip().lower() == _ASK_WORD else v)
        for k, v in settings.items()
    }


def _flat(settings: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in settings.items():
        if isinstance(value, dict):
            out += _flat(value, f"{prefix}{key}.")
        else:
            out.append((f"{prefix}{key}", value))
    return out


def _test(name: str, env: str | None) -> ConnectionTest:
    try:
        live = connection(name, env=env)
    except AtomnbError as exc:
        return ConnectionTest(False, exc.message, 0.0)
    return test_connection(live)


def _test_html(name: str, result: ConnectionTest) -> str:
    colour = "#2e7d32" if result.ok else "#c62828"
    word = "ok" if result.ok else "failed"
    return (
        f"<div class='atomnb-connection-test'>connection <b>{html.escape(name)}</b>: "
        f"<b style='color:{colour}'>{word}</b> — {html.escape(result.message)} "
        f"<span style='color:#777'>({result.elapsed_s * 1000:.0f} ms)</span></div>"
    )


def _list_html() -> str:
    names = list_connections()
    if not names:
        return (
            "<div>No connections yet: define one with <code>%%atomnb connection NAME</code>.</div>"
        )
    rows = []
    for name in names:
        try:
            spec = load_connection_spec(name)
            where = next(
                (str(v) for k, v in _flat(spec.settings) if k in ("url", "base_url", "root")), ""
            )
            secrets = ", ".join(
                f"{k} → {v}"
                for k, v in _flat(spec.settings)
                if is_secret_key(k.split(".")[-1]) and v
            )
            rows.append(
                f"<tr><td><b>{html.escape(name)}</b></td><td>{html.escape(spec.kind)}</td>"
                f"<td><code>{html.escape(where)}</code></td>"
                f"<td>{html.escape(secrets) or '-'}</td></tr>"
            )
        except AtomnbError as exc:
            rows.append(
                f"<tr><td><b>{html.escape(name)}</b></td><td colspan='3' style='color:#c62828'>"
                f"{html.escape(exc.message)}</td></tr>"
            )
    return (
        "<table><thead><tr><th>connection</th><th>kind</th><th>where</th>"
        f"<th>secrets (references)</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _edit(shell: Any, name: str) -> None:
    """Put the saved connection into the next cell, ready to change and run again."""
    spec = load_connection_spec(name)
    body = yaml.safe_dump({"kind": spec.kind, **spec.settings}, sort_keys=False).strip()
    shell.set_next_input(f"%%atomnb connection {name}\n{body}\n", replace=False)


def _show(markup: str) -> None:
    from IPython.display import HTML, display

    display(HTML(markup))
