"""Validate documents against a profile: every problem, each naming document, path and rule.

Checks run column by column over Arrow arrays (nested lists and records
included), so a batch of a million documents is validated without a Python loop
per value; Python only builds the messages of the values that failed. The valid
documents come back separately from the invalid ones: a batch never fails for
one bad document unless the caller asks (``report.raise_for_errors()``).

Fields the profile does not know do not make a document invalid (readers and
partners add fields all the time), but they are not silent either: each is a
warning naming document and path (``rule="unknown_field"``, the first
``MAX_WARNINGS`` kept), and ``report.unknown_fields`` counts documents per path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from atomnb.documents import Documents
from atomnb.errors import DocumentError, ValidationErrorGroup
from atomnb.profiles.detect import DEFAULT_PARSE_MASKS
from atomnb.profiles.model import Element, ElementType, Profile

__all__ = ["ERRORS_PROPERTY", "MAX_WARNINGS", "ValidationReport", "validate"]

#: Unknown-field warnings kept per ``validate`` call (every one is counted in ``unknown_fields``).
MAX_WARNINGS = 1_000

#: Property set on each invalid document: its problems, one per line.
ERRORS_PROPERTY = "validation_errors"

_PATTERNS = {
    ElementType.INTEGER: r"^\s*[+-]?\d{1,18}\s*$",
    ElementType.DECIMAL: r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$",
}
_BOOLEAN_TEXT = ["true", "false", "1", "0", "yes", "no", "y", "n"]


@dataclass(frozen=True)
class ValidationReport:
    """The outcome of ``validate``: valid and invalid documents, and every error found."""

    valid: Documents
    invalid: Documents
    errors: tuple[DocumentError, ...] = field(default=())
    invalid_indices: tuple[int, ...] = field(default=())
    #: One per document and path holding a field the profile does not know (rule
    #: ``unknown_field``); warnings never make a document invalid.
    warnings: tuple[DocumentError, ...] = field(default=())
    #: Documents per element path (``lines.colour``) holding a field the profile does not know.
    unknown_fields: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """No errors (unknown fields are warnings, see ``warnings`` and ``unknown_fields``)."""
        return not self.errors

    def raise_for_errors(self) -> None:
        """Raise one ``ValidationErrorGroup`` holding every error, if there are any."""
        if self.errors:
            raise ValidationErrorGroup(
                f"{len(self.invalid)} of {len(self.valid) + len(self.invalid)} document(s) "
                "do not fit the profile",
                list(self.errors),
            )

    def __repr__(self) -> str:
        counts = f"valid={len(self.valid)} invalid={len(self.invalid)} errors={len(self.errors)}"
        if self.unknown_fields:
            counts += f" unknown_fields={sum(self.unknown_fields.values())}"
        return f"<ValidationReport {counts}>"


@dataclass
class _Context:
    """Where the values being checked sit: their document and their index in each list."""

    docs: np.ndarray  # document index per value
    list_positions: list[np.ndarray]  # one array per enclosing list: the item index per value
    template: str  # the path with "{}" where list indices go
    errors: list[DocumentError]
    unknown: _Unknown

    def report(self, positions: np.ndarray, rule: str, message: Callable[[int], str]) -> None:
        for pos in positions.tolist():
            indices = [int(a[pos]) for a in self.list_positions]
            self.errors.append(
                DocumentError(
                    message(pos),
                    document=int(self.docs[pos]),
                    path=self.template.format(*indices),
                    rule=rule,
                )
            )

    def child(self, name: str) -> _Context:
        template = f"{self.template}.{name}" if self.template else name
        return _Context(self.docs, self.list_positions, template, self.errors, self.unknown)

    def warn_unknown(self, name: str, positions: np.ndarray) -> None:
        """Fields named ``name`` the profile does not know, at ``positions`` of this level."""
        if not positions.size:
            return
        path = f"{self.template}.{name}" if self.template else name
        dotted = path.replace("[{}]", "")
        if self.list_positions:  # inside lists a document can hold the field more than once
            seen = np.zeros(self.unknown.documents, dtype=bool)  # cheaper than np.unique
            seen[self.docs[positions]] = True
            count = int(np.count_nonzero(seen))
        else:
            count = int(positions.size)
        self.unknown.counts[dotted] = self.unknown.counts.get(dotted, 0) + count
        room = MAX_WARNINGS - len(self.unknown.warnings)
        for pos in positions[: max(room, 0)].tolist():
            indices = [int(a[pos]) for a in self.list_positions]
            self.unknown.warnings.append(
                DocumentError(
                    "field not in the profile",
                    document=int(self.docs[pos]),
                    path=path.format(*indices),
                    rule="unknown_field",
                )
            )


@dataclass
class _Unknown:
    """Unknown fields found so far: documents per dotted path, and the first warnings."""

    documents: int
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[DocumentError] = field(default_factory=list)


def validate(documents: Documents, profile: Profile) -> ValidationReport:
    """Check every document against ``profile``; never stops at the first problem."""
    table = documents.to_arrow()
    n = len(documents)
    errors: list[DocumentError] = []
    unknown = _Unknown(n)
    root = _Context(np.arange(n), [], "", errors, unknown)
    present = np.ones(n, dtype=bool)
    known = {element.name for element in profile.elements}
    for name in table.column_names:
        if name not in known:
            valid = pc.is_valid(table.column(name)).to_numpy(zero_copy_only=False)
            root.warn_unknown(name, np.flatnonzero(valid))
    for element in profile.elements:
        context = root.child(element.name)
        if element.name not in table.column_names:
            if element.mandatory or element.min_occurs:
                context.report(np.arange(n), "mandatory", lambda _: "mandatory element is missing")
            continue
        _check(element, table.column(element.name).combine_chunks(), present, context)
    bad_docs = sorted({e.document for e in errors if e.document is not None})
    warnings = tuple(unknown.warnings)
    counts = dict(sorted(unknown.counts.items()))
    if not bad_docs:
        return ValidationReport(
            documents, documents.take([]), (), warnings=warnings, unknown_fields=counts
        )
    by_doc: dict[int, list[str]] = {}
    for error in errors:
        by_doc.setdefault(int(error.document or 0), []).append(str(error))
    mask = np.zeros(n, dtype=bool)
    mask[bad_docs] = True
    invalid = documents.take(bad_docs).with_properties(
        **{ERRORS_PROPERTY: ["\n".join(by_doc[d]) for d in bad_docs]}
    )
    return ValidationReport(
        documents.filter(pa.array(~mask)),
        invalid,
        tuple(errors),
        tuple(bad_docs),
        warnings=warnings,
        unknown_fields=counts,
    )


def _check(element: Element, array: pa.Array, present: np.ndarray, ctx: _Context) -> None:
    """Check one element's values; ``present`` marks values whose parent exists."""
    filled = _filled(array)
    if element.mandatory:
        missing = np.flatnonzero(present & ~filled)
        ctx.report(missing, "mandatory", lambda _: "mandatory value is missing")
    here = present & filled
    if pa.types.is_list(array.type) or pa.types.is_large_list(array.type):
        _check_list(element, array, here, ctx)
        return
    if element.repeating:
        return  # a single value where a list was declared: readers give lists; nothing to add
    _check_value(element, array, here, ctx)


def _check_list(element: Element, array: pa.Array, here: np.ndarray, ctx: _Context) -> None:
    lengths = pc.fill_null(pc.list_value_length(array), 0).to_numpy(zero_copy_only=False)
    if element.min_occurs:
        few = np.flatnonzero(here & (lengths < element.min_occurs))
        ctx.report(
            few,
            "min_occurs",
            lambda p: f"{lengths[p]} item(s), at least {element.min_occurs} required",
        )
    if element.max_occurs is not None:
        many = np.flatnonzero(here & (lengths > element.max_occurs))
        ctx.report(
            many,
            "max_occurs",
            lambda p: f"{lengths[p]} item(s), at most {element.max_occurs} allowed",
        )
    items = pc.list_flatten(array)
    parents = pc.list_parent_indices(array).to_numpy(zero_copy_only=False)
    offsets = array.offsets.to_numpy(zero_copy_only=False)
    position = np.arange(len(parents)) - (offsets[parents] - offsets[0])
    inner = _Context(
        ctx.docs[parents],
        [a[parents] for a in ctx.list_positions] + [position],
        ctx.template + "[{}]",
        ctx.errors,
        ctx.unknown,
    )
    single = Element(
        element.name,
        element.type,
        mandatory=False,
        min_length=element.min_length,
        max_length=element.max_length,
        mask=element.mask,
        scale=element.scale,
        enum=element.enum,
        children=element.children,
    )
    _check_value(single, items, here[parents], inner)


def _check_value(element: Element, array: pa.Array, here: np.ndarray, ctx: _Context) -> None:
    if element.type is ElementType.RECORD:
        if not pa.types.is_struct(array.type):
            wrong = np.flatnonzero(here)
            ctx.report(wrong, "type", lambda _: f"expected a record, found {array.type}")
            return
        names = {array.type.field(i).name: i for i in range(array.type.num_fields)}
        known = {child.name for child in element.children}
        for name, index in names.items():
            if name not in known:
                valid = pc.is_valid(pc.struct_field(array, [index])).to_numpy(zero_copy_only=False)
                ctx.warn_unknown(name, np.flatnonzero(here & valid))
        for child in element.children:
            child_ctx = ctx.child(child.name)
            if child.name not in names:
                if child.mandatory or child.min_occurs:
                    child_ctx.report(
                        np.flatnonzero(here), "mandatory", lambda _: "mandatory element is missing"
                    )
                continue
            _check(child, pc.struct_field(array, [names[child.name]]), here, child_ctx)
        return
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        _check_text(element, array, here, ctx)


def _check_text(element: Element, array: pa.Array, here: np.ndarray, ctx: _Context) -> None:
    values = array
    if element.type is not ElementType.STRING:
        ok = _parses(element, values)
        bad = np.flatnonzero(here & ~ok)
        ctx.report(bad, "type", lambda p: f"{_show(values, p)} is not {_describe(element)}")
        here = here & ok
    if element.min_length is not None or element.max_length is not None:
        lengths = pc.fill_null(pc.utf8_length(values), 0).to_numpy(zero_copy_only=False)
        if element.max_length is not None:
            long = np.flatnonzero(here & (lengths > element.max_length))
            ctx.report(
                long,
                "max_length",
                lambda p: f"{lengths[p]} characters, at most {element.max_length} allowed",
            )
        if element.min_length is not None:
            short = np.flatnonzero(here & (lengths < element.min_length))
            ctx.report(
                short,
                "min_length",
                lambda p: f"{lengths[p]} characters, at least {element.min_length} required",
            )
    if element.enum is not None:
        allowed = pa.array(list(element.enum), type=pa.string())
        inside = pc.fill_null(pc.is_in(values, value_set=allowed), False).to_numpy(
            zero_copy_only=False
        )
        bad = np.flatnonzero(here & ~inside)
        shown = ", ".join(element.enum[:10])
        ctx.report(bad, "enum", lambda p: f"{_show(values, p)} is not one of: {shown}")


def _parses(element: Element, values: pa.Array) -> np.ndarray:
    """Per value: does the text parse as the element's type (empty text counts as absent)?"""
    blank = pc.fill_null(pc.equal(values, ""), True).to_numpy(zero_copy_only=False)
    kind = element.type
    if kind is ElementType.DECIMAL and element.scale is not None:
        digits = f"{{0,{element.scale}}}"
        matched = pc.match_substring_regex(
            values, rf"^\s*[+-]?(\d{{1,30}}\.?\d{digits}|\.\d{digits})\s*$"
        )
    elif kind in _PATTERNS:
        matched = pc.match_substring_regex(values, _PATTERNS[kind])
    elif kind is ElementType.BOOLEAN:
        matched = pc.is_in(pc.utf8_lower(values), value_set=pa.array(_BOOLEAN_TEXT))
    else:
        matched = _parses_temporal(element, values)
    return blank | pc.fill_null(matched, False).to_numpy(zero_copy_only=False)


def _parses_temporal(element: Element, values: pa.Array) -> pa.Array:
    """Dates and times by mask, parsed once per distinct value (dates repeat a lot)."""
    masks = [element.mask] if element.mask else list(DEFAULT_PARSE_MASKS[element.type])
    distinct = pc.unique(values)
    good = []
    for text in distinct.to_pylist():
        good.append(text is not None and any(_strptime_ok(text, m) for m in masks))
    lookup = pa.array(good, type=pa.bool_())
    return pc.take(lookup, pc.index_in(values, value_set=distinct))


def _strptime_ok(text: str, mask: str) -> bool:
    try:
        datetime.strptime(text.strip(), mask)
    except ValueError:
        return False
    return True


def _filled(array: pa.Array) -> np.ndarray:
    valid = pc.is_valid(array)
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        valid = pc.and_(valid, pc.fill_null(pc.not_equal(array, ""), False))
    return valid.to_numpy(zero_copy_only=False)


def _show(values: pa.Array, position: int) -> str:
    text = values[position].as_py()
    return repr(text if len(text) <= 40 else text[:39] + "…")


def _describe(element: Element) -> str:
    article = {ElementType.INTEGER: "an integer", ElementType.DECIMAL: "a decimal number"}
    if element.type is ElementType.DECIMAL and element.scale is not None:
        return f"a decimal number with at most {element.scale} decimal places"
    if element.type in article:
        return article[element.type]
    if element.mask:
        return f"a {element.type.value} in the form {element.mask}"
    return f"a {element.type.value}"
