"""Tracked fields: the few document values a process names, kept so a person can ask later
"what happened to order SO-123?" across every execution.

The store keeps metadata only; these values are the one exception, and only the
fields the process names with ``track`` (an order number, a partner id) — never
whole documents.

>>> import atomnb as ab
>>> docs = ab.Documents.from_records([{"orderId": "SO-1"}, {"orderId": "SO-2"}])
>>> ab.track(docs, "orderId") is docs
True
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from atomnb.documents import Documents
from atomnb.errors import ProcessError
from atomnb.process.run import current_run
from atomnb.process.secrets import kernel_scrubber

__all__ = ["MAX_TRACKED", "track"]

#: Tracked values kept per execution; beyond this a warning says so (the store stays small).
MAX_TRACKED = 100_000


def track(documents: Documents, *fields: str, name: str | None = None) -> Documents:
    """Record the values of ``fields`` (dotted paths into records) for every document."""
    if not fields:
        raise ProcessError("track needs at least one field to track")
    run = current_run()
    label = name or "track"
    scrubber = kernel_scrubber()  # a tracked field may hold a secret: never kept raw
    with run.shape("track", name, documents) as call:
        for field in fields:
            values = _values(documents, field, label).to_pylist()
            for index, value in enumerate(values):
                if value is None:
                    continue
                if len(run.trace.tracked) >= MAX_TRACKED:
                    run.trace.log(
                        "warning",
                        f"more than {MAX_TRACKED} tracked values; the rest are not kept",
                        label,
                    )
                    return call.out("out", documents)
                text = scrubber.scrub(str(value)) if scrubber else str(value)
                run.trace.tracked.append(
                    {"shape": label, "field": field, "value": text, "document": index}
                )
        call.out("out", documents)
    return documents


def _values(documents: Documents, path: str, shape: str) -> pa.Array:
    parts = path.split(".")
    if parts[0] not in documents.column_names:
        known = ", ".join(documents.column_names) or "none"
        raise ProcessError(f"shape {shape}: no field {parts[0]!r} to track (fields: {known})")
    array = documents.column(parts[0]).combine_chunks()
    for part in parts[1:]:
        if not pa.types.is_struct(array.type) or array.type.get_field_index(part) < 0:
            raise ProcessError(f"shape {shape}: no field {path!r} to track")
        array = pc.struct_field(array, [array.type.get_field_index(part)])
    return array
