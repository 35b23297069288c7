"""The partner start shape: a trading-partner process begins with what arrived, received as B2B.

``partner_start()`` is ``start()`` for EDI. It takes the documents the process starts
with, exactly as ``start`` chooses them (a listener's or AS2 message, a caller's
documents, or the sample handed in interactively, which may also be plain bytes),
and gives every interchange to ``receive_b2b``: the partner identified from the
envelope, duplicates refused, the partner's validation policy applied,
acknowledgements built, sets routed by (partner, document type).

Unparsed documents (one binary ``content`` column, as listeners, ``file_get`` and
``raw_documents`` hand them over) are read one by one by ``read_edi`` (validated,
counts and X12 element problems marked so the partner's policy decides), each under
its ``file_name`` property when it has one, so a rejection names the file;
documents already read are received as they are. The trace shows one output per
route ("<partner>/<type>") and one of the acknowledgements built (their bytes, as
raw documents with ``b2b.kind``, ``b2b.partner`` and ``b2b.acknowledges``); the
rejections are the shape's errors, each written to the run's log with its rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa

from atomnb.b2b.inbound import Receipt, read_edi, receive_b2b
from atomnb.b2b.stores import StoreLike
from atomnb.components.partners import Partner
from atomnb.components.workspace import Workspace
from atomnb.documents import Documents
from atomnb.formats.base import FILE_PROPERTY
from atomnb.process.run import current_run
from atomnb.process.shapes import CONTENT, raw_documents, start

__all__ = ["partner_start"]


def partner_start(
    documents: Documents | bytes | None = None,
    *,
    name: str | None = None,
    partners: Iterable[Partner | str] | None = None,
    store: StoreLike = None,
    workspace: Workspace | str | Path | None = None,
    env: str | None = None,
) -> Receipt:
    """Start a partner process: what arrived, identified, checked, acknowledged and routed.

    Returns ``receive_b2b``'s ``Receipt``: ``receipt.batch(partner, type)`` for each
    route, ``receipt.acknowledgements`` to send, ``receipt.rejections`` (nothing is
    dropped). ``partners``, ``store``, ``workspace`` and ``env`` are ``receive_b2b``'s.
    """
    sample = raw_documents([documents]) if isinstance(documents, bytes) else documents
    arrived = start(sample, name=f"{name or 'partner_start'}: arrived")
    run = current_run()
    with run.shape("partner_start", name, arrived) as call:

        def receive(docs: Documents) -> Receipt:
            return receive_b2b(docs, partners=partners, store=store, workspace=workspace, env=env)

        if _is_unparsed(arrived):
            receipt = _merge([receive(doc) for doc in _read_each(arrived)])
        else:
            receipt = receive(arrived)
        for (partner, doc_type), batch in receipt.batches.items():
            call.out(f"{partner}/{doc_type}", batch)
        call.out("acknowledgements", _acknowledgement_documents(receipt))
        call.errors = len(receipt.rejections)
        for rejection in receipt.rejections[:20]:
            run.log("warning", f"rejected: {rejection}", name or "partner_start")
    return receipt


def _is_unparsed(documents: Documents) -> bool:
    if documents.column_names != [CONTENT]:
        return False
    kind = documents.schema.field(0).type
    return bool(pa.types.is_binary(kind) or pa.types.is_large_binary(kind))


def _read_each(raw: Documents) -> Iterable[Documents]:
    """Each unparsed document read as X12 or EDIFACT (``read_edi``), under its name."""
    contents = raw.column(CONTENT).to_pylist()
    names = raw.property(FILE_PROPERTY).to_pylist() if FILE_PROPERTY in raw.property_names else None
    for index, content in enumerate(contents):
        data = bytes(content or b"")
        label = str(names[index]) if names and names[index] else f"document {index}"
        yield read_edi(data, label)


def _merge(receipts: list[Receipt]) -> Receipt:
    """One receipt for several arrivals; batches of one route are joined end to end."""
    merged = Receipt()
    parts: dict[tuple[str, str], list[Documents]] = {}
    for receipt in receipts:
        for key, batch in receipt.batches.items():
            parts.setdefault(key, []).append(batch)
        merged.acknowledgements += receipt.acknowledgements
        merged.duplicates += receipt.duplicates
        merged.matched += receipt.matched
        merged.rejections += receipt.rejections
    for key, batches in parts.items():
        try:
            merged.batches[key] = Documents.concat(batches)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            # documents of one route whose layouts Arrow cannot unify stay apart, numbered
            for number, batch in enumerate(batches, 1):
                merged.batches[(key[0], f"{key[1]}#{number}")] = batch
    return merged


def _acknowledgement_documents(receipt: Receipt) -> Documents:
    acks = receipt.acknowledgements
    return raw_documents(
        [a.data for a in acks],
        properties={
            "b2b.kind": [a.kind for a in acks],
            "b2b.partner": [a.partner for a in acks],
            "b2b.acknowledges": [a.acknowledges for a in acks],
        },
    )
