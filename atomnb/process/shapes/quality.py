"""Data quality shapes: cleanse against a profile, business rules, and find changes.

Each sends the documents it refuses down a path of their own, with every reason
on the document (never only the first), so they can be reported, repaired and
replayed; refused documents count as the shape's errors.

>>> docs = Documents.from_records([{"id": "A", "total": 5}, {"id": "B", "total": -1}])
>>> ok, bad = business_rules(docs, [("positive", "total > 0", "order {id}: total <= 0")])
>>> len(ok), bad.properties_of(0)["rules.failed"]
(1, ['order B: total <= 0'])
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from itertools import islice
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from atomnb.documents import Documents, Rejection
from atomnb.errors import ProcessError
from atomnb.process.run import current_run
from atomnb.process.shapes.conditions import Condition, evaluate
from atomnb.process.shapes.control import _fill
from atomnb.profiles import ElementType, Profile, validate

__all__ = [
    "CLEANSE_ERRORS",
    "CLEANSE_REPAIRED",
    "RULES_FAILED",
    "business_rules",
    "cleanse",
    "find_changes",
]

#: Property of a document ``cleanse`` rejected: every problem found, one text each.
CLEANSE_ERRORS = "cleanse.errors"
#: Property of a document ``cleanse`` passed: the fields it repaired (empty when none).
CLEANSE_REPAIRED = "cleanse.repaired"
#: Property of a document ``business_rules`` rejected: the message of every rule it failed.
RULES_FAILED = "rules.failed"

_TEXT = (pa.types.is_string, pa.types.is_large_string)


def cleanse(
    documents: Documents,
    profile: Profile,
    *,
    repair: bool = True,
    truncate: bool = False,
    name: str | None = None,
) -> tuple[Documents, Documents]:
    """Documents that fit ``profile`` (after safe repairs), and those that do not, with reasons.

    Checks every restriction ``ab.validate`` knows (type, mandatory, length, enum,
    occurrences, nested elements too). With ``repair``, top-level text fields are
    repaired where that cannot invent a value: surrounding whitespace is trimmed,
    and a value matching one allowed ``enum`` value but for case takes that value.
    Text over ``max_length`` is cut only with ``truncate=True`` (cutting loses data).
    A missing or unparseable value is never made up: the document is rejected.

    Clean documents carry ``cleanse.repaired`` (the fields repaired); rejected ones
    come back as they were received, with ``cleanse.errors`` listing every problem.

    >>> from atomnb.profiles import Element
    >>> prof = Profile("p", (Element("code", enum=("DE", "FR")),))
    >>> clean, rejected = cleanse(Documents.from_records([{"code": " de "}, {"code": "XX"}]), prof)
    >>> clean[0], rejected.properties_of(0)["cleanse.errors"]
    ({'code': 'DE'}, ["document 1, code, rule enum: 'XX' is not one of: DE, FR"])
    """
    with current_run().shape("cleanse", name or profile.name, documents) as call:
        repaired_table, repaired = (
            _repair(documents, profile, truncate) if repair else (documents.to_arrow(), [])
        )
        candidate = documents.with_table(repaired_table)
        report = validate(candidate, profile)
        reasons: dict[int, list[str]] = {}
        for error in report.errors:
            reasons.setdefault(int(error.document or 0), []).append(str(error))
        bad = sorted(reasons)
        keep = np.ones(len(documents), dtype=bool)
        keep[bad] = False
        clean = candidate.filter(pa.array(keep))
        if repair:
            fixed = [[f for f, changed in repaired if changed[i]] for i in np.flatnonzero(keep)]
            listed = pa.array(fixed, pa.list_(pa.string()))
            clean = clean.with_properties(**{CLEANSE_REPAIRED: listed})
        rejected = documents.take(bad).with_properties(
            **{CLEANSE_ERRORS: pa.array([reasons[i] for i in bad], pa.list_(pa.string()))}
        )
        call.errors = len(bad)
        _log_rules(
            [
                (e.document, f"{e.path}, rule {e.rule}" if e.path else f"rule {e.rule}", None)
                for e in report.errors
            ],
            name or profile.name,
        )
        return call.out("clean", clean), call.out("rejected", rejected)


def _repair(
    documents: Documents, profile: Profile, truncate: bool
) -> tuple[pa.Table, list[tuple[str, np.ndarray]]]:
    """The table with safe repairs made, and per repaired field which documents changed."""
    table = documents.to_arrow()
    changes: list[tuple[str, np.ndarray]] = []
    for element in profile.elements:
        if element.name not in table.column_names or element.repeating:
            continue
        if element.type is ElementType.RECORD:
            continue
        column = table.column(element.name)
        if not any(check(column.type) for check in _TEXT):
            continue
        values = pc.utf8_trim_whitespace(column)
        if element.enum is not None:
            values = _fold_enum(values, element.enum)
        if truncate and element.max_length is not None:
            values = pc.utf8_slice_codeunits(values, 0, element.max_length)
        changed = pc.fill_null(pc.not_equal(values, column), False)
        mask = changed.to_numpy(zero_copy_only=False)
        if mask.any():
            index = table.schema.get_field_index(element.name)
            table = table.set_column(index, table.schema.field(element.name), values)
            changes.append((element.name, mask))
    return table, changes


def _fold_enum(values: pa.ChunkedArray, allowed: Sequence[str]) -> pa.ChunkedArray:
    """Values equal to exactly one allowed value but for case take that value."""
    lowered: dict[str, list[str]] = {}
    for value in allowed:
        lowered.setdefault(value.lower(), []).append(value)
    unique = {low: vals[0] for low, vals in lowered.items() if len(vals) == 1}
    if not unique:
        return values
    position = pc.index_in(pc.utf8_lower(values), value_set=pa.array(list(unique)))
    folded = pc.take(pa.array(list(unique.values())), position)
    exact = pc.is_in(values, value_set=pa.array(list(allowed), pa.string()))
    return pc.if_else(pc.or_(exact, pc.is_null(folded)), values, folded)


RuleSpec = Mapping[str, Condition] | Sequence[tuple[str, Condition, str] | tuple[str, Condition]]


def business_rules(
    documents: Documents, rules: RuleSpec, *, name: str | None = None
) -> tuple[Documents, Documents]:
    """Documents that pass every rule, and those that fail any, with every failed rule's message.

    ``rules`` is ``{name: condition}`` (the message is ``rule <name> failed``) or a list
    of ``(name, condition, message)`` (or ``(name, condition)``); conditions are as for
    ``decision`` (a polars expression, SQL-like text, or a function of one document).
    A rule holds only where its condition is true: false or null (e.g. a missing value)
    fails it. A message may name fields, ``"order {id}: total must be positive"``.
    Rejected documents carry ``rules.failed``, a list of the messages in rule order.

    >>> docs = Documents.from_records([{"qty": 2}, {"qty": 0}])
    >>> ok, bad = business_rules(docs, {"has quantity": "qty > 0"})
    >>> ok.to_pylist(), bad.properties_of(0)
    ([{'qty': 2}], {'rules.failed': ['rule has quantity failed']})
    """
    shape = name or "business_rules"
    listed = list(rules.items()) if isinstance(rules, Mapping) else list(rules)
    specs = [(r[0], r[1], r[2] if len(r) > 2 else f"rule {r[0]} failed") for r in listed]
    if not specs:
        raise ProcessError(f"shape {shape}: give at least one rule")
    with current_run().shape("business_rules", name, documents) as call:
        failed = np.zeros((len(specs), len(documents)), dtype=bool)
        for number, (rule, condition, _message) in enumerate(specs):
            held = evaluate(documents, condition, shape=f"{shape}: {rule}")
            try:
                ok = pc.fill_null(held.cast(pa.bool_()), False).to_numpy(zero_copy_only=False)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise ProcessError(
                    f"shape {shape}: rule {rule!r} must give true or false, not {held.type}"
                ) from None
            failed[number] = ~ok
        bad = np.flatnonzero(failed.any(axis=0))
        messages = []
        for index in bad.tolist():
            record: dict[str, Any] = {**documents.properties_of(index), **documents[index]}
            hits = zip(specs, failed[:, index], strict=True)
            messages.append([_fill(str(spec[2]), record) for spec, hit in hits if hit])
        accepted = documents.filter(pa.array(~failed.any(axis=0)))
        rejected = documents.take(pa.array(bad, pa.int64())).with_properties(
            **{RULES_FAILED: pa.array(messages, pa.list_(pa.string()))}
        )
        call.errors = len(bad)
        given = [len(r) > 2 for r in listed]  # a message the author wrote, not the default
        found = (
            (index, f"rule {spec[0]}", str(spec[2]) if given[number] else None)
            for index in bad.tolist()
            for number, spec in enumerate(specs)
            if failed[number, index]
        )
        _log_rules(list(islice(found, _LOGGED_REJECTIONS)), shape, int(failed.sum()))
        return call.out("accepted", accepted), call.out("rejected", rejected)


#: Rejections logged per shape call (each is also counted in the shape's errors).
_LOGGED_REJECTIONS = 20


def _log_rules(
    found: Sequence[tuple[int | None, str, str | None]], shape: str, total: int | None = None
) -> None:
    """Warn of the first rejections by position and rule, never with a document's values.

    ``found`` holds (document, "path, rule R" or "rule R", the rule's own message or None).
    The console lists these lines as the execution's rejected documents.
    """
    run = current_run()
    for document, rule, message in found[:_LOGGED_REJECTIONS]:
        where = f"{shape}, document {document}" if document is not None else shape
        text = f"rejected: {where}, {rule}" + (f": {message}" if message else "")
        run.trace.log("warning", text, shape)
    total = len(found) if total is None else total
    if total > _LOGGED_REJECTIONS:
        run.trace.log("warning", f"{total - _LOGGED_REJECTIONS} more rejections", shape)


#: Prefix of the persisted value that keeps a ``find_changes`` snapshot.
SNAPSHOT_PREFIX = "find_changes."


def find_changes(
    documents: Documents,
    key: str | Sequence[str],
    *,
    snapshot: str,
    name: str | None = None,
) -> tuple[Documents, Documents, Documents]:
    """Added, updated and deleted documents since the last successful run, matched by ``key``.

    ``key`` names fields (or document properties) that identify a document. The
    snapshot ``snapshot`` keeps, per key, a hash of the document's fields; this run's
    snapshot is persisted and replaces it only if the run succeeds. Unchanged documents
    go down no path. Deleted documents hold only the key fields. A document whose key
    is missing is rejected (on the added batch's rejections) and left out of the snapshot.

    >>> added, updated, deleted = find_changes(
    ...     Documents.from_records([{"id": "C1", "name": "Ann"}]), key="id", snapshot="crm"
    ... )
    >>> len(added), len(updated), len(deleted)
    (1, 0, 0)
    """
    keys = [key] if isinstance(key, str) else list(key)
    if not keys:
        raise ProcessError(f"shape {name or 'find_changes'}: give the key field(s)")
    run = current_run()
    stored = run.persisted(SNAPSHOT_PREFIX + snapshot) or {}
    if stored and stored.get("keys") != keys:
        raise ProcessError(
            f"snapshot {snapshot!r} was taken with key {stored.get('keys')}, not {keys}",
            hint="use another snapshot name for another key",
        )
    before: dict[str, str] = dict(stored.get("hashes", {}))
    with run.shape("find_changes", name or snapshot, documents) as call:
        texts = _key_texts(documents, keys, name or "find_changes")
        hashes = _content_hashes(documents)
        status = np.zeros(len(documents), dtype=np.int8)  # 0 unchanged, 1 added, 2 updated
        after: dict[str, str] = {}
        missing: list[int] = []
        for index, (text, digest) in enumerate(zip(texts, hashes, strict=True)):
            if text is None:
                missing.append(index)
                continue
            old = before.get(text)
            status[index] = 1 if old is None else (2 if old != digest else 0)
            after[text] = digest
        gone = [text for text in before if text not in after]
        rejections = [
            Rejection("the key is missing", name or snapshot, "key", index) for index in missing
        ]
        added = documents.filter(pa.array(status == 1)).with_rejections(rejections)
        updated = documents.filter(pa.array(status == 2))
        deleted = _deleted(documents, keys, gone)
        call.errors = len(missing)
        for index in missing[:20]:
            run.trace.log("warning", f"document {index}: key {keys} is missing", name or snapshot)
        run.persist(SNAPSHOT_PREFIX + snapshot, {"keys": keys, "hashes": after})
        return call.out("added", added), call.out("updated", updated), call.out("deleted", deleted)


def _key_texts(documents: Documents, keys: list[str], shape: str) -> list[str | None]:
    """Each document's key as JSON text (a list for several fields), None if any is null."""
    if len(documents) == 0:
        return []
    columns = []
    for field in keys:
        if field in documents.column_names:
            columns.append(documents.column(field).to_pylist())
        elif field in documents.property_names:
            columns.append(documents.property(field).to_pylist())
        else:
            raise ProcessError(
                f"shape {shape}: no key field or property {field!r} "
                f"(fields: {', '.join(documents.column_names) or 'none'})"
            )
    texts: list[str | None] = []
    for values in zip(*columns, strict=True):
        if any(v is None for v in values):
            texts.append(None)
        else:
            plain = values[0] if len(values) == 1 else list(values)
            texts.append(json.dumps(plain, default=str, ensure_ascii=False))
    return texts


def _content_hashes(documents: Documents) -> list[str]:
    """A short, stable hash of each document's fields (not its properties)."""
    table = documents.to_arrow()
    if len(documents) == 0:
        return []
    if table.num_columns == 0:
        encoded = [b""] * len(documents)
    elif table.num_columns == 1 and pa.types.is_binary(table.schema.field(0).type):
        encoded = [v or b"" for v in table.column(0).to_pylist()]
    else:
        ordered = table.select(sorted(table.column_names))
        if "binary" in str(ordered.schema):  # polars cannot write bytes as JSON: per row
            texts = [
                json.dumps(row, default=repr, ensure_ascii=False) for row in ordered.to_pylist()
            ]
        else:  # vectorized: polars writes each row as JSON text
            frame = pl.from_arrow(ordered)
            assert isinstance(frame, pl.DataFrame)
            texts = frame.select(pl.struct(pl.all()).struct.json_encode()).to_series().to_list()
        encoded = [t.encode("utf-8") for t in texts]
    return [hashlib.blake2b(e, digest_size=8).hexdigest() for e in encoded]


def _deleted(documents: Documents, keys: list[str], gone: list[str]) -> Documents:
    """Documents holding only the key fields of those in the snapshot and gone now."""
    rows = []
    for text in gone:
        value = json.loads(text)
        values = value if len(keys) > 1 else [value]
        rows.append(dict(zip(keys, values, strict=True)))
    deleted = Documents.from_records(rows)
    if not rows:
        return deleted
    table = deleted.to_arrow()
    for field in keys:  # give the keys the type they have now (JSON keeps only text/numbers)
        if field in documents.column_names:
            wanted = documents.column(field).type
            try:
                column = table.column(field).cast(wanted)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                continue
            table = table.set_column(table.schema.get_field_index(field), field, column)
    return Documents(table)
