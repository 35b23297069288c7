"""A listener refuses an over-deep, duplicated or NaN JSON message with 400 and its position
(it answered an unhandled ArrowInvalid, 500); a bad JSON Lines line is refused alone."""

from __future__ import annotations

import httpx
import pytest

from tests.atom.conftest import AtomProcess
from tests.atom.test_listener import listener

pytestmark = pytest.mark.atom
__all__ = ["listener"]  # the fixture, shared with the listener tests


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b"[" + b'{"sku": ' * 5_000 + b"1" + b"}" * 5_000 + b"]", "nesting deeper than 256"),
        (b'[{"sku": "A", "qty": 1, "qty": 2, "price": 1.0}]', "duplicate key 'qty'"),
        (b'[{"sku": "A", "qty": NaN, "price": 1.0}]', "NaN is not a JSON number"),
    ],
)
def test_a_json_message_over_the_limits_answers_400_with_its_position(
    listener: AtomProcess, body: bytes, said: str
) -> None:
    response = httpx.post(
        f"{listener.url}/listen/quote",
        content=body,
        headers={"content-type": "application/json"},
        timeout=60,
    )
    assert response.status_code == 400, response.text
    answer = response.json()
    assert said in answer["error"]
    assert "document 0, line 1, column" in answer["where"]
    assert listener.client.executions(process="quote") == []


def test_a_bad_json_line_is_refused_and_the_others_are_processed(listener: AtomProcess) -> None:
    lines = [
        b'{"sku": "A", "qty": 2, "price": 1.0}',
        b'{"sku": "B", "qty": ' + b"[" * 1_000 + b"]" * 1_000 + b', "price": 1.0}',
        b'{"sku": "C", "qty": 1, "price": 3.0}',
    ]
    response = httpx.post(
        f"{listener.url}/listen/quote?format=jsonl",
        content=b"\n".join(lines) + b"\n",
        headers={"content-type": "application/x-ndjson", "accept": "application/json"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    assert response.headers["X-Atomnb-Rejected"] == "1"
    assert [row["sku"] for row in response.json()] == ["A", "C"]
