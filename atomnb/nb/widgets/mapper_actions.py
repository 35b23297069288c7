"""What the mapper's browser side asks for: small intents applied to the Map in Python.

Each handler takes the widget and the message (``{"action": "link", ...}``) and
returns the new Map (or ``None`` when the map does not change); the widget assigns
it, which redraws the view and recomputes the preview. Argument text is converted
by the function's declared types here (``step_args``), errors kept beside the field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from atomnb.errors import MapError
from atomnb.maps import Map
from atomnb.nb.widgets import mapping_ops as ops
from atomnb.nb.widgets.step_args import convert_step_args

if TYPE_CHECKING:
    from atomnb.nb.widgets.mapper import MapperWidget

__all__ = ["HANDLERS", "Handler"]

Handler = Callable[["MapperWidget", Mapping[str, Any]], Map | None]


def _link(w: MapperWidget, m: Mapping[str, Any]) -> Map:
    changed = ops.link(w.map, str(m["source"]), str(m["target"]))
    w.selected = str(m["target"])
    return changed


def _unlink(w: MapperWidget, m: Mapping[str, Any]) -> Map:
    source = m.get("source")
    if source is None:
        _set_errors(w, str(m["target"]), {})  # the link and its argument fields are gone
    return ops.unlink(w.map, str(m["target"]), None if source is None else str(source))


def _add_step(w: MapperWidget, m: Mapping[str, Any]) -> Map:
    target, fn = str(m["target"]), str(m["fn"])
    link = ops.find_link(w.map, target)
    index = len(link.steps) if link is not None else 0
    changed = ops.add_step(w.map, target, fn)
    args, errors = convert_step_args(changed, target, index, fn, dict(m.get("args") or {}))
    _set_errors(w, target, errors)
    return ops.set_step_args(changed, target, index, args) if args else changed


def _set_args(w: MapperWidget, m: Mapping[str, Any]) -> Map:
    """Typed text → the declared types; a field that does not convert keeps its old value."""
    target, index = str(m["target"]), int(m["index"])
    link = ops.find_link(w.map, target)
    if link is None or not 0 <= index < len(link.steps):
        raise MapError(f"the link to {target} has no step {index + 1}")
    step = link.steps[index]
    args, errors = convert_step_args(w.map, target, index, step.fn, dict(m.get("args") or {}))
    for key in errors:
        name = key.rsplit("/", 1)[1]
        if name in step.args:
            args[name] = step.args[name]
    _set_errors(w, target, errors, index)
    return ops.set_step_args(w.map, target, index, args)


def _set_errors(
    w: MapperWidget, target: str, errors: Mapping[str, Any], index: int | None = None
) -> None:
    """Replace the argument errors of one step (or of every step of ``target``)."""
    prefix = f"{target}/" if index is None else f"{target}/{index}/"
    kept = {k: v for k, v in w.errors.items() if not k.startswith(prefix)}
    w.errors = {**kept, **errors}


def _remove_step(w: MapperWidget, m: Mapping[str, Any]) -> Map:
    _set_errors(w, str(m["target"]), {})
    return ops.remove_step(w.map, str(m["target"]), int(m["index"]))


def _move_step(w: MapperWidget, m: Mapping[str, Any]) -> Map:
    _set_errors(w, str(m["target"]), {})
    return ops.move_step(w.map, str(m["target"]), int(m["index"]), int(m["delta"]))


def _fan_out(w: MapperWidget, m: Mapping[str, Any]) -> Map:
    element = m.get("element")
    return ops.set_fan_out(w.map, str(element) if element else None)


def _save(w: MapperWidget, _m: Mapping[str, Any]) -> None:
    w.save()


def _save_case(w: MapperWidget, m: Mapping[str, Any]) -> None:
    name = m.get("name")
    w.save_case(str(name) if name else None)


HANDLERS: dict[str, Handler] = {
    "link": _link,
    "unlink": _unlink,
    "add_step": _add_step,
    "set_args": _set_args,
    "remove_step": _remove_step,
    "move_step": _move_step,
    "fan_out": _fan_out,
    "save": _save,
    "save_case": _save_case,
}
