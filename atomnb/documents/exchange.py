"""Documents to and from an Arrow IPC file: how a batch crosses a process boundary.

A calling process hands documents to a called one (and gets documents back) as a
file in the execution folder, not through a pipe: the file survives a crash for
inspection, costs no conversion (Arrow in, Arrow out), and keeps the document
properties next to the content, as columns under a reserved prefix.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc

from atomnb.documents.batch import Documents

__all__ = ["PROPERTY_PREFIX", "read_ipc", "write_ipc"]

PROPERTY_PREFIX = "__atomnb_property__."


def write_ipc(documents: Documents, path: Path) -> Path:
    """Write content and properties to ``path`` atomically (temp file + rename)."""
    table = documents.to_arrow()
    for name in documents.property_names:
        table = table.append_column(PROPERTY_PREFIX + name, documents.property(name))
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(path.suffix + ".tmp")
    with pa.OSFile(str(temp), "wb") as sink, ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    temp.replace(path)
    return path


def read_ipc(path: Path) -> Documents:
    """The documents ``write_ipc`` wrote, properties restored."""
    with pa.memory_map(str(path), "r") as source:
        table = ipc.open_file(source).read_all()
    content = [n for n in table.column_names if not n.startswith(PROPERTY_PREFIX)]
    properties = {
        n.removeprefix(PROPERTY_PREFIX): table.column(n)
        for n in table.column_names
        if n.startswith(PROPERTY_PREFIX)
    }
    return Documents(table.select(content), properties)
