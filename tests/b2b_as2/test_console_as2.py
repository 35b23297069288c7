"""The console's execution page lists the execution's AS2 messages with their MDN outcome."""

from __future__ import annotations

from atomnb.store import ExecutionRecord, ExecutionStatus
from atomnb.store.models import Trigger
from atomnb.web.records.detail import ExecutionView, execution_detail_page


def record() -> ExecutionRecord:
    return ExecutionRecord(
        "e0001", "send_invoices", "send_invoices.ipynb", "prod", Trigger.MANUAL,
        ExecutionStatus.SUCCEEDED,
    )  # fmt: skip


def test_the_execution_page_lists_its_as2_messages_escaped() -> None:
    messages = [
        {"direction": "out", "partner": "bee", "message_id": "<m1@aye>", "mdn_mode": "async",
         "status": "processed", "detail": "MDN delivered (HTTP 200, attempt 2)",
         "mdn_at": "2026-12-05T12:00:00+00:00"},
        {"direction": "in", "partner": "bee", "message_id": "<m2@bee>", "mdn_mode": "sync",
         "status": "decryption-failed", "detail": "<script>x</script>", "mdn_at": None},
    ]  # fmt: skip
    page = execution_detail_page(ExecutionView(record(), as2=messages))
    assert "<h2>AS2 messages</h2>" in page
    assert "&lt;m1@aye&gt;" in page and "MDN delivered (HTTP 200, attempt 2)" in page
    assert "decryption-failed" in page and "received" in page
    assert "<script>x</script>" not in page  # the reason is text, escaped


def test_no_section_without_as2_messages() -> None:
    assert "AS2 messages" not in execution_detail_page(ExecutionView(record()))
