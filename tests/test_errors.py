from __future__ import annotations

import pytest

from atomnb import errors
from atomnb.errors import (
    AtomnbError,
    DocumentError,
    FormatError,
    ParameterError,
    RetriableConnectorError,
    ValidationErrorGroup,
)


def test_every_public_error_is_an_atomnb_error_and_an_exception() -> None:
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, AtomnbError), name
        assert issubclass(cls, Exception), name


def test_message_names_where_and_what_to_do() -> None:
    exc = FormatError("unexpected end of data", where="orders.json, line 3", hint="fix the file")
    assert str(exc) == "orders.json, line 3: unexpected end of data\n  hint: fix the file"
    assert exc.message == "unexpected end of data"


def test_document_error_names_document_path_and_rule() -> None:
    exc = DocumentError("value missing", document=4, path="order.lines[2].sku", rule="mandatory")
    assert str(exc) == "document 4, order.lines[2].sku, rule mandatory: value missing"
    assert (exc.document, exc.path, exc.rule) == (4, "order.lines[2].sku", "mandatory")


def test_split_by_what_the_caller_does_next() -> None:
    assert issubclass(RetriableConnectorError, errors.ConnectorError)
    assert issubclass(ParameterError, errors.NotebookError)


def test_validation_group_keeps_every_member_and_supports_except_star() -> None:
    group = ValidationErrorGroup(
        "2 documents invalid",
        [DocumentError("a", document=0), FormatError("b", where="f.csv, row 3")],
    )
    assert isinstance(group, AtomnbError)
    assert len(group.exceptions) == 2
    text = str(group)
    assert "document 0: a" in text and "f.csv, row 3: b" in text
    caught = []
    with pytest.raises(ExceptionGroup):
        try:
            raise group
        except* DocumentError as matched:
            caught.extend(matched.exceptions)
    assert [e.document for e in caught] == [0]
