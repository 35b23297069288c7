"""Data process shapes: split, combine, search/replace, custom Python, and message.

Documents may be *unparsed*: raw content plus properties, until a profile reads
them. An unparsed batch is a ``Documents`` with one binary column, ``content``
(``raw_documents`` makes one, ``parse_documents`` reads it with a format), so the
shapes that work on bytes fit the same flow as those over parsed fields (zip and
unzip, in ``archive.py``, too).

>>> raw = raw_documents([b"id,name\\n1,Ann\\n2,Bob\\n"])
>>> [d["content"] for d in split(raw, by="lines", header=True)]
[b'id,name\\n1,Ann', b'id,name\\n2,Bob']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from atomnb.documents import Documents, Rejection
from atomnb.errors import FormatError, ProcessError
from atomnb.formats import FILE_PROPERTY, read, write
from atomnb.process.drift import kernel_policy, turns_status
from atomnb.process.run import current_run
from atomnb.process.shapes.control import _fill
from atomnb.profiles import DriftCollector, collecting_drift

__all__ = [
    "CONTENT",
    "combine",
    "custom",
    "message",
    "parse_documents",
    "raw_documents",
    "search_replace",
    "split",
]

#: The one column of an unparsed document: its raw bytes.
CONTENT = "content"


def raw_documents(
    contents: Sequence[bytes | str], properties: Mapping[str, Any] | None = None
) -> Documents:
    """Unparsed documents: raw content (text is encoded as UTF-8) plus properties.

    >>> raw_documents([b"a", "b"], properties={"file_name": ["a.txt", "b.txt"]})[1]
    {'content': b'b'}
    """
    data = [c.encode("utf-8") if isinstance(c, str) else bytes(c) for c in contents]
    return Documents(pa.table({CONTENT: pa.array(data, pa.binary())}), properties)


def parse_documents(
    raw: Documents, format: str | None = None, *, name: str | None = None, **options: Any
) -> Documents:
    """Read each unparsed document's content with ``ab.read``; one batch of all their records.

    Every record keeps the properties of the document it came from (they win over
    the reader's ``file_name``). A document that does not read is rejected, named by
    its ``file_name``, and so are records a ``profile=`` refuses; the others come through.
    Drift from that profile (fields it does not know, values off type or mask, missing
    mandatory values, new codes) is written to the run's log as one line, in paths and
    counts only: a warning under the process's drift policy ``warn`` or ``notify``, else
    information (``atomnb.process.drift``; ``ignore`` measures nothing).

    >>> parse_documents(raw_documents([b'[{"id": 1}, {"id": 2}]']), format="json").to_pylist()
    [{'id': 1}, {'id': 2}]
    """
    run = current_run()
    policy = kernel_policy()
    measuring: AbstractContextManager[DriftCollector | None] = (
        nullcontext() if policy == "ignore" else collecting_drift()
    )
    with run.shape("parse", name, raw) as call, measuring as drifts:
        parts: list[Documents] = []
        rejections: list[Rejection] = []
        for index, content in enumerate(_contents(raw, name or "parse")):
            where = _file_name(raw, index) or f"document {index}"
            try:
                parsed = read(content, format, **options)
            except FormatError as exc:
                rejections.append(Rejection(str(exc), where, "format", index, content))
                continue
            rejections.extend(replace(r, where=where) for r in parsed.rejections)
            inherited = raw.take([index] * len(parsed))
            props = {n: parsed.property(n) for n in parsed.property_names}
            props.update({n: inherited.property(n) for n in raw.property_names})
            parts.append(Documents(parsed.to_arrow(), props))
        out = Documents.concat(parts) if parts else Documents(pa.table({}))
        out = out.with_rejections([*raw.rejections, *rejections])
        call.errors = len(rejections)
        level = "warning" if turns_status(policy) else "info"
        for report in drifts.reports() if drifts is not None else ():
            if report.drifted:  # paths and counts only: the summary never holds a value
                run.trace.log(level, f"profile drift: {report.summary()}", name or "parse")
        _log_rejections(rejections, name or "parse", detail=False)
        return call.out("out", out)


def split(
    documents: Documents,
    by: str = "lines",
    *,
    header: bool = False,
    format: str | None = None,
    name: str | None = None,
    **options: Any,
) -> Documents:
    """One document per line, per record, or per repetition of a repeating element.

    - ``by="lines"`` (unparsed): one document per non-empty line; ``header=True`` puts
      each document's first line (a CSV header) on top of every piece.
    - ``by="records"`` (unparsed): read each content with ``format`` (and ``options``)
      and write every record back in that format, one document each.
    - ``by=<list field>`` (parsed documents, so a field may be called ``lines``): one
      document per item, with the other top-level fields copied; the field stays a list
      (of one item), so the same profile fits. A document with no items passes
      unchanged, so nothing is lost.

    Every piece keeps the properties of the document it came from.

    >>> docs = Documents.from_records([{"order": 1, "lines": [{"sku": "A"}, {"sku": "B"}]}])
    >>> split(docs, by="lines").to_pylist()
    [{'order': 1, 'lines': [{'sku': 'A'}]}, {'order': 1, 'lines': [{'sku': 'B'}]}]
    """
    with current_run().shape("split", name, documents) as call:
        unparsed = _is_unparsed(documents)
        if by == "lines" and unparsed:
            out = _split_lines(documents, header)
        elif by == "records" and unparsed:
            if format is None:
                raise ProcessError("split by records needs the content's format=")
            out = _split_records(documents, format, options)
        else:
            out = _split_element(documents, by, name or "split")
        call.errors = len(out.rejections) - len(documents.rejections)
        _log_rejections(out.rejections[len(documents.rejections) :], name or "split", detail=False)
        return call.out("out", out)


def _split_lines(documents: Documents, header: bool) -> Documents:
    content = _content_column(documents, "split").combine_chunks()
    lines = pc.split_pattern_regex(content, r"\r?\n")
    items = pc.list_flatten(lines)
    parents = pc.list_parent_indices(lines)
    keep = pc.greater(pc.binary_length(items), 0).to_numpy(zero_copy_only=False)
    if header:  # drop each document's first line, and put it on top of the others
        offsets = lines.offsets.to_numpy(zero_copy_only=False)
        parent_np = parents.to_numpy(zero_copy_only=False)
        keep &= np.arange(len(parent_np)) != offsets[parent_np] - offsets[0]
        heads = pc.list_element(lines, 0).take(parents)
        items = pc.binary_join_element_wise(heads, items, pa.scalar(b"\n", pa.binary()))
    mask = pa.array(keep)
    pieces = pc.filter(items, mask)
    return _with_content(documents.take(pc.filter(parents, mask)), pieces)


def _split_records(documents: Documents, format: str, options: dict[str, Any]) -> Documents:
    """Each record written back on its own; unreadable documents and records are rejected."""
    parents: list[int] = []
    pieces: list[bytes] = []
    rejections: list[Rejection] = []
    for index, content in enumerate(_contents(documents, "split")):
        where = _file_name(documents, index) or f"document {index}"
        try:
            parsed = read(content, format, **options)
        except FormatError as exc:
            rejections.append(Rejection(str(exc), where, "format", index, content))
            continue
        rejections.extend(replace(r, where=where) for r in parsed.rejections)
        for record in range(len(parsed)):
            data = write(parsed.take([record]), format=format)
            assert data is not None
            parents.append(index)
            pieces.append(data)
    out = _with_content(documents.take(parents), pa.array(pieces, pa.binary()))
    return out.with_rejections(rejections)


def _split_element(documents: Documents, field: str, shape: str) -> Documents:
    if len(documents) == 0:
        return documents
    table = documents.to_arrow()
    lists = [
        f.name for f in table.schema if pa.types.is_list(f.type) or pa.types.is_large_list(f.type)
    ]
    if field not in lists:
        raise ProcessError(
            f"shape {shape}: split by needs 'lines', 'records' or a repeating top-level field "
            f"(lists here: {', '.join(lists) or 'none'}), not {field!r}"
        )
    array = table.column(field).combine_chunks()
    lengths = pc.fill_null(pc.list_value_length(array), 0).to_numpy(zero_copy_only=False)
    # Each document repeats once per item (at least once, so an empty one is kept as is).
    repeat = np.maximum(lengths, 1)
    rows = pa.array(np.repeat(np.arange(len(array)), repeat))
    has_item = np.repeat(lengths > 0, repeat)
    offsets = np.concatenate([[0], np.cumsum(has_item)]).astype(np.int32)
    nulls = pc.is_null(array).take(rows)
    values = pa.ListArray.from_arrays(pa.array(offsets), pc.list_flatten(array), mask=nulls)
    out = documents.take(rows)
    column = table.schema.get_field_index(field)
    new = out.to_arrow().set_column(column, table.schema.field(field), values.cast(array.type))
    return out.with_table(new)


def combine(
    documents: Documents,
    into: str | None = None,
    *,
    separator: bytes | str = b"\n",
    name: str | None = None,
) -> Documents:
    """Many documents into one: a list field ``into`` holding every record, or joined content.

    Parsed documents need ``into`` (the list field's name); unparsed ones have their
    content joined with ``separator``. The one document keeps the first document's
    properties; an empty batch combines into no document.

    >>> combine(raw_documents([b"a", b"b"]))[0]
    {'content': b'a\\nb'}
    """
    with current_run().shape("combine", name, documents) as call:
        if len(documents) == 0:
            return call.out("out", documents)
        first = documents.take([0])
        if into is None:
            glue = separator.encode("utf-8") if isinstance(separator, str) else separator
            joined = glue.join(_contents(documents, name or "combine"))
            return call.out("out", _with_content(first, pa.array([joined], pa.binary())))
        records = documents.to_arrow().to_struct_array().combine_chunks()
        listed = pa.ListArray.from_arrays(pa.array([0, len(records)], pa.int32()), records)
        return call.out("out", first.with_table(pa.table({into: listed})))


def search_replace(
    documents: Documents,
    pattern: str,
    replacement: str,
    *,
    regex: bool = False,
    fields: Sequence[str] | None = None,
    name: str | None = None,
) -> Documents:
    """Replace ``pattern`` in unparsed content, or in the given text ``fields``.

    With ``regex=True`` the pattern is a regular expression (RE2 syntax, ``\\1`` for
    groups). Vectorized: one Arrow call per column.

    >>> search_replace(raw_documents([b"a-b-c"]), "-", "/")[0]
    {'content': b'a/b/c'}
    """
    shape = name or "search_replace"
    substitute = pc.replace_substring_regex if regex else pc.replace_substring
    with current_run().shape("search_replace", name, documents) as call:
        if len(documents) == 0:
            return call.out("out", documents)
        table = documents.to_arrow()
        targets = list(fields) if fields is not None else [CONTENT]
        if fields is None:
            _content_column(documents, shape)
        for field in targets:
            if field not in table.column_names:
                known = ", ".join(table.column_names)
                raise ProcessError(f"shape {shape}: no field {field!r} (fields: {known})")
            column = table.column(field)
            text = pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
            if fields is not None and not text:
                raise ProcessError(f"shape {shape}: field {field!r} is {column.type}, not text")
            try:
                changed = substitute(column, pattern=pattern, replacement=replacement)
            except pa.ArrowInvalid as exc:
                raise ProcessError(f"shape {shape}: bad pattern {pattern!r}: {exc}") from None
            table = table.set_column(table.schema.get_field_index(field), field, changed)
        return call.out("out", documents.with_table(table))


def custom(
    documents: Documents, function: Callable[[Documents], Documents], *, name: str | None = None
) -> Documents:
    """Any Python function from Documents to Documents, recorded as a shape.

    Rejections the function adds count as this shape's errors.

    >>> custom(raw_documents([b"x"]), lambda d: d.with_properties(seen=True)).properties_of(0)
    {'seen': True}
    """
    label = name or getattr(function, "__name__", None) or "custom"
    with current_run().shape("custom", label, documents) as call:
        out = function(documents)
        if not isinstance(out, Documents):
            raise ProcessError(
                f"shape {label}: the function must return Documents, not {type(out).__name__}"
            )
        call.errors = max(len(out.rejections) - len(documents.rejections), 0)
        return call.out("out", out)


def message(
    template: str, documents: Documents | None = None, *, name: str | None = None
) -> Documents:
    """Unparsed documents built from ``template``: one per document, or one with no documents.

    ``{field}`` takes the document's field, else its property, else a process property;
    a null value gives empty text, ``{content}`` of an unparsed document its text, and
    an unknown name stays as ``{name}``. The documents' properties carry over.

    >>> docs = Documents.from_records([{"id": "SO-7"}])
    >>> message("order {id}: {status}", docs)[0]
    {'content': b'order SO-7: {status}'}
    """
    run = current_run()
    with run.shape("message", name, documents) as call:
        process = {k: v for k, v in run.properties.items() if not k.startswith("__")}
        if documents is None:
            return call.out("out", raw_documents([_fill(template, _shown(process))]))
        texts = []
        for index, record in enumerate(documents):
            values = {**process, **documents.properties_of(index), **record}
            texts.append(_fill(template, _shown(values)))
        out = raw_documents(texts)
        props = {n: documents.property(n) for n in documents.property_names}
        return call.out("out", Documents(out.to_arrow(), props, documents.rejections))


# -- helpers ---------------------------------------------------------------------------


def _is_unparsed(documents: Documents) -> bool:
    """One binary ``content`` column (an empty batch with no fields counts as unparsed)."""
    if not documents.column_names:
        return len(documents) == 0
    kind = documents.schema.field(0).type
    binary = pa.types.is_binary(kind) or pa.types.is_large_binary(kind)
    return documents.column_names == [CONTENT] and binary


def _content_column(documents: Documents, shape: str) -> pa.ChunkedArray:
    if not _is_unparsed(documents):
        raise ProcessError(
            f"shape {shape} needs unparsed documents (one binary column {CONTENT!r}; "
            "make them with ab.raw_documents or ab.message), "
            f"not fields {', '.join(documents.column_names) or 'none'}"
        )
    if not documents.column_names:
        return pa.chunked_array([], pa.binary())
    return documents.column(CONTENT)


def _contents(documents: Documents, shape: str) -> list[bytes]:
    return [bytes(c) for c in _content_column(documents, shape).to_pylist()]


def _with_content(documents: Documents, content: pa.Array) -> Documents:
    """The documents with their content replaced (one new value per document)."""
    return documents.with_table(pa.table({CONTENT: content.cast(pa.binary())}))


def _file_name(documents: Documents, index: int) -> str | None:
    known = FILE_PROPERTY in documents.property_names
    value = documents.property(FILE_PROPERTY)[index].as_py() if known else None
    return str(value) if value else None


def _shown(values: Mapping[str, Any]) -> dict[str, Any]:
    """Values as a template shows them: null as empty text, bytes (content) as UTF-8 text."""
    shown = {k: "" if v is None else v for k, v in values.items()}
    return {
        k: v.decode("utf-8", "replace") if isinstance(v, bytes) else v for k, v in shown.items()
    }


def _log_rejections(rejections: Sequence[Rejection], shape: str, *, detail: bool) -> None:
    """Warn of the first rejections; a message that may quote values stays off the trace."""
    for r in rejections[:20]:
        where = f"{r.where}, document {r.index}" if r.index is not None else r.where
        text = str(r) if detail else f"rejected: {where}, rule {r.rule}"
        current_run().trace.log("warning", text, shape)
