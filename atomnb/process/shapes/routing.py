"""Decision, route and branch: send documents down different paths.

>>> import atomnb as ab
>>> docs = ab.Documents.from_records([{"total": 50}, {"total": 1500}])
>>> big, small = ab.decision(docs, "total > 1000", name="big orders")
>>> len(big), len(small)
(1, 1)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from atomnb.documents import Documents
from atomnb.errors import ProcessError
from atomnb.process.run import current_run
from atomnb.process.shapes.conditions import Condition, evaluate

__all__ = ["branch", "decision", "route"]


def decision(
    documents: Documents, condition: Condition, *, name: str | None = None
) -> tuple[Documents, Documents]:
    """Documents for which ``condition`` is true, and the rest (false or missing)."""
    with current_run().shape("decision", name, documents) as call:
        mask = pc.fill_null(
            evaluate(documents, condition, shape=name or "decision").cast(pa.bool_()), False
        )
        passed = call.out("true", documents.filter(mask))
        failed = call.out("false", documents.filter(pc.invert(mask)))
    return passed, failed


def route(
    documents: Documents,
    by: Condition | bool,
    routes: Mapping[str, Any] | Sequence[str],
    *,
    default: str = "default",
    name: str | None = None,
) -> dict[str, Documents]:
    """Documents by route name; those no route takes go to ``default``.

    ``by`` gives each document a value; ``routes`` maps a route name to the value(s)
    it takes (a list of names routes by equal value). Or ``by=None``-style rules:
    pass ``routes={"big": pl.col("total") > 1000, ...}`` and ``by=True`` to take
    the first rule that holds.
    """
    shape = name or "route"
    with current_run().shape("route", name, documents) as call:
        taken = pa.array([False] * len(documents), type=pa.bool_())
        result: dict[str, Documents] = {}
        named: dict[str, Any] = (
            dict(routes) if isinstance(routes, Mapping) else {r: [r] for r in routes}
        )
        if default in named:
            raise ProcessError(
                f"shape {shape}: a route may not be called {default!r} (the default)"
            )
        values = None if isinstance(by, bool) else evaluate(documents, by, shape=shape)
        for route_name, rule in named.items():
            if not len(documents):
                result[route_name] = call.out(route_name, documents)
                continue
            if values is None:
                hit = pc.fill_null(evaluate(documents, rule, shape=shape).cast(pa.bool_()), False)
            else:
                wanted = rule if isinstance(rule, (list, tuple, set)) else [rule]
                hit = pc.fill_null(
                    pc.is_in(values, value_set=pa.array(list(wanted)).cast(values.type)), False
                )
            hit = pc.and_(hit, pc.invert(taken))
            taken = pc.or_(taken, hit)
            result[route_name] = call.out(route_name, documents.filter(hit))
        result[default] = call.out(default, documents.filter(pc.invert(taken)))
    return result


def branch(
    documents: Documents, *paths: Callable[[Documents], Any], name: str | None = None
) -> list[Any]:
    """The same documents down each path in order; the paths' results, in that order."""
    with current_run().shape("branch", name, documents) as call:
        for index in range(1, len(paths) + 1):
            call.out(f"branch {index}", documents)
    # The paths run after the branch is recorded, so the trace reads in execution order.
    return [path(documents) for path in paths]
