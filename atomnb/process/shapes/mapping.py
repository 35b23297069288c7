"""The map shape: apply a map component, recording documents in, out and rejected.

>>> import atomnb as ab
>>> # out = ab.map(docs, "order_to_invoice")   # a map component of the workspace
"""

from __future__ import annotations

from typing import Any

from atomnb.documents import Documents
from atomnb.maps import Map, load_map
from atomnb.process.run import current_run

__all__ = ["map"]


def map(
    documents: Documents, mapping: Map | str, *, name: str | None = None, **options: Any
) -> Documents:
    """Map ``documents`` with ``mapping`` (a Map or a map component's name).

    Documents the map rejects stay on the result's ``rejections``, count as this
    shape's errors, and make the run "succeeded with warnings".
    """
    resolved = load_map(mapping) if isinstance(mapping, str) else mapping
    run = current_run()
    options.setdefault("properties", run.properties)
    with run.shape("map", name or resolved.name, documents) as call:
        before = len(documents.rejections)
        out = resolved(documents, **options)
        assert isinstance(out, Documents)
        call.errors = len(out.rejections) - before
        for rejection in out.rejections[before : before + 20]:
            run.trace.log("warning", f"rejected: {rejection}", name or resolved.name)
        return call.out("out", out)
