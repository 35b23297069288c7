"""What each ``%atomnb`` sub-command does: library calls, and HTML or a widget to show.

Each command takes the IPython shell (for the user's namespace), the parsed
arguments and the cell body, and returns what the cell should display (a widget)
or ``None`` after displaying HTML itself. Names in arguments are looked up in the
notebook's variables first, then as component names or file paths.
"""

from __future__ import annotations

import argparse
import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

from atomnb.components import Workspace
from atomnb.documents import Documents
from atomnb.errors import ComponentError, ConfigError
from atomnb.maps import Map, load_map
from atomnb.nb import partner_command, record_command
from atomnb.nb.display import components_html, execution_line_html, profile_tree_html
from atomnb.nb.inventory import workspace_components
from atomnb.nb.sources import resolve_sample
from atomnb.profiles import Profile, load_profile, save_profile

__all__ = ["COMMANDS", "use_atom_actions"]

Command = Callable[[Any, argparse.Namespace, "str | None"], Any]
_ATOM_ACTIONS: dict[str, Callable[..., Any]] = {}


def _show(markup: str) -> None:
    from IPython.display import HTML, display

    display(HTML(markup))


def _namespace(shell: Any) -> dict[str, Any]:
    return shell.user_ns if shell is not None else {}


def _keep(shell: Any, var: str | None, value: Any) -> None:
    if var:
        if not var.isidentifier():
            raise ConfigError(f"--as {var!r} is not a valid Python variable name")
        _namespace(shell)[var] = value


def _profile(shell: Any, name: str) -> Profile:
    value = _namespace(shell).get(name) if name.isidentifier() else None
    if isinstance(value, Profile):
        return value
    if value is not None:
        raise ConfigError(f"{name} is a {type(value).__name__}, not a Profile")
    return load_profile(name)


def _map(shell: Any, name: str) -> Map:
    value = _namespace(shell).get(name) if name.isidentifier() else None
    if isinstance(value, Map):
        return value
    if value is not None and hasattr(value, "map") and isinstance(value.map, Map):
        return value.map  # a mapper widget
    return load_map(name)


def profile_infer(shell: Any, args: argparse.Namespace, _cell: str | None) -> None:
    from atomnb.formats import infer_profile

    ns = _namespace(shell)
    if args.sample.isidentifier() and args.sample in ns:
        docs = resolve_sample(args.sample, ns)
        profile = infer_profile(docs, args.format, name=args.name or args.sample)
    elif Path(args.sample).exists():
        # from the file itself: the profile keeps the format and how the file is read
        profile = infer_profile(Path(args.sample), args.format, name=args.name)
    else:
        resolve_sample(args.sample, ns)  # raises: neither a variable nor a file
        return
    _keep(shell, args.var, profile)
    note = ""
    if args.save:
        path = save_profile(profile)
        note = f"<div>saved <code>{html.escape(str(path))}</code></div>"
    kept = f"<div>kept as <code>{html.escape(args.var)}</code></div>" if args.var else ""
    _show(profile_tree_html(profile) + note + kept)


def profile_show(shell: Any, args: argparse.Namespace, _cell: str | None) -> None:
    _show(profile_tree_html(_profile(shell, args.profile)))


def profile_save(shell: Any, args: argparse.Namespace, _cell: str | None) -> None:
    value = _namespace(shell).get(args.profile)
    if not isinstance(value, Profile):
        raise ConfigError(
            f"no Profile variable named {args.profile!r}",
            hint="infer one first: %atomnb profile infer SAMPLE --as NAME",
        )
    path = save_profile(value, args.name)
    _show(f"<div>saved <code>{html.escape(str(path))}</code></div>")


def map_open(shell: Any, args: argparse.Namespace, _cell: str | None) -> Any:
    from atomnb.nb.widgets.mapper import mapper

    ns = _namespace(shell)
    docs = resolve_sample(args.sample, ns) if args.sample else None
    if args.source or args.target:
        if not (args.source and args.target):
            raise ConfigError("a new map needs both --source and --target")
        widget = mapper(
            name=args.name,
            source=_profile(shell, args.source),
            target=_profile(shell, args.target),
            documents=docs,
        )
    else:
        value = ns.get(args.name) if args.name.isidentifier() else None
        if isinstance(value, Map):
            widget = mapper(value, documents=docs)
        else:
            try:
                widget = mapper(args.name, documents=docs)
            except ComponentError as exc:
                raise ComponentError(
                    exc.message,
                    hint="to start a new map, give --source and --target profiles",
                ) from None
    _keep(shell, args.var, widget)
    return widget


def map_apply(shell: Any, args: argparse.Namespace, _cell: str | None) -> None:
    mapping = _map(shell, args.name)
    docs = resolve_sample(args.sample, _namespace(shell))
    out = mapping(docs)
    assert isinstance(out, Documents)
    _keep(shell, args.var, out)
    rejected = ""
    if out.rejections:
        items = "".join(f"<li>{html.escape(str(r))}</li>" for r in out.rejections[:20])
        more = f"<li>… {len(out.rejections) - 20} more</li>" if len(out.rejections) > 20 else ""
        rejected = (
            f"<div style='color:#c62828'>{len(out.rejections)} document(s) failed:</div>"
            f"<ul>{items}{more}</ul>"
        )
    # counts that add up: the rejections the documents already carried are not the map's
    before = len(docs.rejections) if isinstance(docs, Documents) else 0
    per = f" (one per {html.escape(mapping.fan_out)})" if mapping.fan_out else ""
    earlier = (
        f"; {before} rejected before the map ({len(out.rejections)} rejection(s) in all)"
        if before
        else ""
    )
    head = (
        f"<div>map <b>{html.escape(mapping.name)}</b>: {len(docs)} document(s) in → "
        f"{len(out)} mapped{per}, {len(out.rejections) - before} failed in the map{earlier}</div>"
    )
    _show(head + out[:20]._repr_html_() + rejected)


def components(shell: Any, args: argparse.Namespace, _cell: str | None) -> None:
    _show(components_html(workspace_components(Workspace.find(), kind=args.kind)))


def dashboard(shell: Any, args: argparse.Namespace, _cell: str | None) -> Any:
    from atomnb.nb.widgets.dashboard import dashboard as make

    return make(
        store_url=args.store,
        atom=args.atom,
        local=args.local,
        limit=args.limit,
        process=args.process,
    )


def use_atom_actions(**actions: Callable[..., Any]) -> None:
    """Give the magics ``deploy``, ``trigger``, ``rollback`` and ``undeploy`` (``ab.deploy`` …).

    ``atomnb.nb`` and ``atomnb.atom`` are sibling layers that never import each
    other, so the package's root (``atomnb.load_ipython_extension``, above both)
    hands the atom's functions in when the extension loads.
    """
    _ATOM_ACTIONS.update(actions)


def _atom_action(name: str) -> Callable[..., Any]:
    action = _ATOM_ACTIONS.get(name)
    if action is None:
        raise ConfigError(
            f"%atomnb {name} needs the extension loaded from the package",
            hint=f"run %load_ext atomnb (or call ab.{name})",
        )
    return action


def deploy(shell: Any, args: argparse.Namespace, _cell: str | None) -> Any:
    return _atom_action("deploy")(
        args.notebook,
        atom=args.atom,
        environment=args.environment,
        schedule=args.schedule,
        timezone=args.timezone,
        catch_up=args.catch_up,
        timeout_s=args.timeout,
        retries=args.retries,
    )


def trigger(shell: Any, args: argparse.Namespace, _cell: str | None) -> Any:
    record = _atom_action("trigger")(
        args.process, dict(args.parameter), atom=args.atom, wait=args.wait
    )
    _show(execution_line_html(record))
    return record


def undeploy(shell: Any, args: argparse.Namespace, _cell: str | None) -> Any:
    """Take a process off the atom: its schedule stops firing, triggers are refused."""
    return _atom_action("undeploy")(args.process, atom=args.atom)


def rollback(shell: Any, args: argparse.Namespace, _cell: str | None) -> Any:
    """Make an earlier version active again (default: the one before the active one)."""
    return _atom_action("rollback")(args.process, args.to, atom=args.atom)


def connection(shell: Any, args: argparse.Namespace, cell: str | None) -> Any:
    from atomnb.nb import connection_cell

    return connection_cell.run(shell, args.words, cell, env=args.env, kind=args.kind)


COMMANDS: dict[str, Command] = {
    "profile infer": profile_infer,
    "profile show": profile_show,
    "profile save": profile_save,
    "map open": map_open,
    "map apply": map_apply,
    "components": components,
    "dashboard": dashboard,
    "deploy": deploy,
    "trigger": trigger,
    "undeploy": undeploy,
    "rollback": rollback,
    "connection": connection,
    "partner": partner_command.run,
    "record": record_command.run,
}
