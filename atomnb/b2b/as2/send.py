"""``ab.send_as2(docs, partner=...)``: post documents to a partner over AS2, check the MDN.

Unparsed documents (one ``content`` column, e.g. from ``ab.raw_documents`` or a
file connector) go one AS2 message each, named by their ``file_name``
property; parsed documents go as one message, written in ``format``.

Each message is recorded in the store (``atomnb.b2b.as2.records``) before it is
posted and gets its outcome there: ``processed`` when a synchronous MDN is
signed by the partner, says processed and confirms our MIC; ``awaiting-mdn``
when the partner will post an asynchronous MDN to our atom later; otherwise the
MDN's failure (``failed/Failure: ...``, ``processed/Error: decryption-failed``).
The execution's trace gets the ``send_as2`` shape, a log line per message and
the tracked fields ``as2.message_id`` and ``as2.status``, so the console finds the
execution by a message id. The result is one document per message (id, status,
detail, MIC, MDN mode); a message that failed is also a rejection of the
result, so ``try_catch`` and the execution's warnings see it.
"""

from __future__ import annotations

import secrets
import warnings
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa

from atomnb.b2b.as2.exchange import Outbound, build_message, parse_mdn
from atomnb.b2b.as2.link import As2Link, load_link
from atomnb.b2b.as2.records import As2Message, As2Records, kernel_records
from atomnb.components import Workspace
from atomnb.components.certificates import CertificateExpiryWarning
from atomnb.documents import Documents, Rejection
from atomnb.errors import ComponentError, ConnectorError
from atomnb.formats import write
from atomnb.process.run import current_run
from atomnb.process.shapes.data import CONTENT
from atomnb.store import ExecutionStore

__all__ = ["CONTENT_TYPES", "send_as2"]

#: The MIME type of a message by the partner's standard (or the format written).
CONTENT_TYPES = {
    "x12": "application/edi-x12",
    "edifact": "application/edifact",
    "json": "application/json",
    "xml": "application/xml",
    "csv": "text/csv",
}


def send_as2(
    documents: Documents,
    partner: str,
    *,
    format: str | None = None,
    content_type: str | None = None,
    subject: str = "AS2 message",
    env: str | None = None,
    workspace: Workspace | str | Path | None = None,
    name: str | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Documents:
    """Send ``documents`` to ``partner`` (a partner component with ``as2:`` settings)."""
    run = current_run()
    if isinstance(workspace, Workspace):
        ws = workspace
    else:  # a run on an atom: its deployed copy of the workspace
        ws = Workspace.find(workspace or run.context.workspace or None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CertificateExpiryWarning)
        link = load_link(partner, ws, env or run.context.environment or None)
    for warning in caught:  # in the trace: the execution ends "with warnings"
        run.trace.log("warning", str(warning.message), name or f"send_as2 {partner}")
        warnings.warn(warning.message, stacklevel=2)
    if not link.settings.url:
        raise ComponentError(f"partner {partner!r} has no as2.url to send to", where=link.source)
    label = name or f"send_as2 {partner}"
    records = _records(ws)
    rows: list[dict[str, Any]] = []
    rejections: list[Rejection] = []
    with run.shape("send_as2", label, documents) as call:
        with httpx.Client(timeout=link.timeout_s, transport=transport) as client:
            for index, (data, file_name) in enumerate(_messages(documents, format, link)):
                left = f"{run.context.execution_id or 'interactive'}.{index}.{secrets.token_hex(4)}"
                out = build_message(
                    link,
                    data,
                    message_id=left,
                    file_name=file_name,
                    content_type=content_type or _content_type(format, link),
                    subject=subject,
                )
                if records is not None:
                    records.add(_row(link, out, run.context.execution_id))
                status, detail, mdn_id = _post(client, link, out)
                if records is not None and status != "awaiting-mdn":
                    records.set_outcome(
                        out.message_id, "out", status, detail, mdn_message_id=mdn_id
                    )
                rows.append(
                    {
                        "message_id": out.message_id,
                        "status": status,
                        "detail": detail,
                        "mic": out.mic,
                        "mdn_mode": out.mdn_mode,
                        "file_name": file_name,
                    }
                )
                ok = status in ("processed", "awaiting-mdn")
                run.trace.log(
                    "info" if ok else "warning",
                    f"AS2 message {out.message_id} to {partner}: {status}"
                    + (f" ({detail})" if detail else ""),
                    label,
                )
                for field, value in (("as2.message_id", out.message_id), ("as2.status", status)):
                    run.trace.tracked.append(
                        {"shape": label, "field": field, "value": value, "document": index}
                    )
                if not ok:
                    rejections.append(
                        Rejection(
                            f"AS2 message {out.message_id}: {status}: {detail or ''}".rstrip(": "),
                            f"message {index}" + (f" ({file_name})" if file_name else ""),
                            "as2",
                            index,
                        )
                    )
        result = Documents.from_records(rows, schema=_SCHEMA).with_rejections(rejections)
        call.errors = len(rejections)
        call.out("sent", result)
    return result


_SCHEMA = pa.schema(
    [
        ("message_id", pa.string()),
        ("status", pa.string()),
        ("detail", pa.string()),
        ("mic", pa.string()),
        ("mdn_mode", pa.string()),
        ("file_name", pa.string()),
    ]
)


def _messages(
    documents: Documents, format: str | None, link: As2Link
) -> list[tuple[bytes, str | None]]:
    """The bytes of each message, with its file name when the document has one."""
    if documents.column_names == [CONTENT]:
        names = (
            documents.property("file_name").to_pylist()
            if "file_name" in documents.property_names
            else [None] * len(documents)
        )
        contents = documents.column(CONTENT).to_pylist()
        return [
            (c.encode("utf-8") if isinstance(c, str) else bytes(c), n)
            for c, n in zip(contents, names, strict=True)
        ]
    if not len(documents):
        return []
    data = write(documents, None, format or "json")
    return [(data or b"", None)]


def _content_type(format: str | None, link: As2Link) -> str:
    del link  # the partner's standard could choose; the format written decides for now
    return CONTENT_TYPES.get(format or "", "application/edi-consent")


def _records(ws: Workspace) -> As2Records | None:
    found = kernel_records()
    if found is not None:
        return found
    return As2Records(ExecutionStore.open(ws.store_url()))


def _row(link: As2Link, out: Outbound, execution_id: str | None) -> As2Message:
    status = "awaiting-mdn" if out.mdn_mode != "none" else "sent"
    return As2Message(
        message_id=out.message_id,
        direction="out",
        partner=link.partner,
        execution_id=execution_id,
        mic=out.mic,
        mic_alg=out.mic_alg,
        mdn_mode=out.mdn_mode,
        status=status,
    )


def _post(client: httpx.Client, link: As2Link, out: Outbound) -> tuple[str, str | None, str | None]:
    """POST the message; the outcome (``awaiting-mdn`` for an asynchronous MDN) and MDN id."""
    url = link.settings.url
    assert url is not None
    try:
        response = client.post(url, content=out.body, headers=out.headers)
    except httpx.HTTPError as exc:
        raise ConnectorError(
            f"AS2 message {out.message_id}: cannot reach {url}: {exc}",
            hint="the message is recorded as awaiting its MDN; send it again once they answer",
        ) from None
    if response.status_code >= 300:
        return (
            "failed/Failure",
            f"HTTP {response.status_code} from {url}: {response.text[:200]}",
            None,
        )
    if out.mdn_mode == "none":
        return "sent", None, None
    if out.mdn_mode == "async":
        return "awaiting-mdn", None, None
    mdn = parse_mdn(
        link,
        dict(response.headers),
        response.content,
        original_message_id=out.message_id,
        mic=out.mic,
    )
    return mdn.status, mdn.detail, mdn.message_id
