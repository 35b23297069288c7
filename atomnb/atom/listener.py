"""Listeners: a message in an HTTP request becomes a process's documents, its answer the response.

The request body is read with atomnb's format readers — the format named by
``?format=`` or by the content type — and handed to the process, whose
``ab.start()`` receives it; what the process hands back with
``ab.return_documents`` is written in the format the caller accepts (JSON by
default). On a warm atom this takes milliseconds, not a kernel start.

``run_listener`` runs a message through the papermill path honouring the process's
mode: a bridge process keeps no documents, so its answer's files go once read.
"""

from __future__ import annotations

import threading

from atomnb.atom.lowlatency import host_of
from atomnb.atom.service import Atom
from atomnb.documents import Documents
from atomnb.errors import FormatError
from atomnb.runtime.lowlatency.modes import forget_documents, keeps_documents
from atomnb.store import ExecutionRecord
from atomnb.store.deployments import Deployment

__all__ = ["MEDIA_TYPES", "format_for", "media_type_for", "run_listener"]

_FORGET_WAIT_S = 24 * 3600.0  # how long a run the caller stopped waiting for is followed

#: Content types and the atomnb format that reads and writes them.
MEDIA_TYPES = {
    "application/json": "json",
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/json-lines": "jsonl",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
    "application/xml": "xml",
    "text/xml": "xml",
    "application/edi-x12": "x12",
    "application/edifact": "edifact",
}
_MEDIA_OF = {
    "json": "application/json",
    "jsonl": "application/x-ndjson",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "xml": "application/xml",
    "x12": "application/edi-x12",
    "edifact": "application/edifact",
}


def format_for(content_type: str | None, explicit: str | None = None) -> str:
    """The format to read a body with: ``explicit``, else the content type's."""
    if explicit:
        if explicit not in _MEDIA_OF:
            raise FormatError(
                f"a listener cannot read format {explicit!r}",
                hint=f"one of {', '.join(sorted(_MEDIA_OF))}",
            )
        return explicit
    media = (content_type or "").split(";")[0].strip().lower()
    if media in MEDIA_TYPES:
        return MEDIA_TYPES[media]
    raise FormatError(
        f"a listener cannot tell the format of a {media or 'body without content type'}",
        hint="send a content type such as application/json or text/csv, or add ?format=",
    )


def media_type_for(accept: str | None, fallback: str) -> tuple[str, str]:
    """(format, media type) for the response: the first accepted one atomnb writes."""
    for part in (accept or "").split(","):
        media = part.split(";")[0].strip().lower()
        if media in MEDIA_TYPES:
            fmt = MEDIA_TYPES[media]
            return fmt, _MEDIA_OF[fmt]
    fmt = fallback if fallback in _MEDIA_OF else "json"
    return fmt, _MEDIA_OF[fmt]


def run_listener(
    atom: Atom, deployment: Deployment, documents: Documents, *, timeout_s: float = 60.0
) -> tuple[ExecutionRecord, dict[str, Documents]]:
    """``atom.listen`` on ``deployment``'s process: its record and what it returned, by label.

    A process whose mode keeps no documents (bridge) loses its answer's files once
    they are read here; the executor removed the message and the output folder
    already. A run still going when the caller stopped waiting (504) loses them when
    it ends.
    """
    record, returned = atom.listen(deployment.process, documents, timeout_s=timeout_s)
    if not keeps_documents(host_of(atom).settings_of(deployment).mode):
        if record.status.finished:
            forget_documents(atom.home.executions_dir / record.id)
        else:
            threading.Thread(target=_forget_when_ended, args=(atom, record.id), daemon=True).start()
    return record, returned


def _forget_when_ended(atom: Atom, execution_id: str) -> None:
    record = atom.wait(execution_id, _FORGET_WAIT_S)
    if record.status.finished:
        forget_documents(atom.home.executions_dir / execution_id)
