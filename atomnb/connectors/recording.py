"""Record connector exchanges into a test case folder, and answer from it on replay.

A recorded test case (``atomnb record``, replayed by ``pytest --atomnb``) must
replay a process without the systems it talks to: no network, no database, no
file server. So every connector that reaches outside wraps its exchange in
``exchange``: normally it just runs; while recording (``ATOMNB_RECORD_DIR`` names
the case folder) the request's identity and the response are written to
``exchanges/`` in the folder; while replaying (``ATOMNB_REPLAY_DIR``) the answer
comes from there and the real call never happens. A request that was not
recorded fails with ``NotRecordedError`` naming the connector, the operation and
the request key. The same key asked twice is answered in the recorded order
(polling, paging, retries).

The folder is meant to be committed, so it never holds a secret: keys are built
from requests *before* credentials are applied (no auth header, no API key
parameter is ever part of them), response headers that carry credentials are
dropped, and every text written goes through the kernel's scrubber (installed by
the process run, see ``install_scrubber``; without one the secret references the
executor handed the kernel are resolved and replaced here).

Documents in a response are kept as Arrow IPC (types survive the replay) unless
scrubbing changed them; then as JSON Lines, so the secret is still not written.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus

import pyarrow as pa

from atomnb._files import write_text_atomically
from atomnb.documents import Documents, Rejection
from atomnb.documents.exchange import read_ipc, write_ipc
from atomnb.errors import FatalConnectorError

__all__ = [
    "EXCHANGES",
    "RECORD_ENV",
    "REPLAY_ENV",
    "NotRecordedError",
    "Recorder",
    "Replayer",
    "active",
    "digest",
    "documents_jsonl",
    "exchange",
    "install_scrubber",
    "read_documents",
    "rejection_from_dict",
    "rejection_to_dict",
    "scrub",
    "write_documents",
]

RECORD_ENV = "ATOMNB_RECORD_DIR"
REPLAY_ENV = "ATOMNB_REPLAY_DIR"
EXCHANGES = "exchanges"
MASK = "***"
#: The environment variable with the secret references the executor hands a kernel.
_SECRET_REFS_ENV = "ATOMNB_SECRET_REFS"

T = TypeVar("T")
Payload = tuple[dict[str, Any], Documents | None]


class NotRecordedError(FatalConnectorError):
    """A replayed process asked a connector something its recording does not hold."""


_lock = threading.Lock()
_scrubber: Callable[[str], str] | None = None
_modes: dict[tuple[str, str], Recorder | Replayer] = {}


def install_scrubber(scrubber: Callable[[str], str]) -> None:
    """Scrub everything recorded with ``scrubber`` (the process run installs the kernel's)."""
    global _scrubber
    _scrubber = scrubber


def scrub(text: str) -> str:
    """``text`` with every secret the kernel knows replaced."""
    if _scrubber is not None:
        return _scrubber(text)
    for value in sorted(_fallback_secrets(), key=len, reverse=True):
        for form in {value, quote(value, safe=""), quote_plus(value)}:
            text = text.replace(form, MASK)
    return text


def _fallback_secrets() -> list[str]:
    from atomnb.components import resolve_secret

    try:
        refs = json.loads(os.environ.get(_SECRET_REFS_ENV) or "[]")
    except ValueError:
        return []
    values = []
    for ref in refs if isinstance(refs, list) else []:
        try:
            values.append(resolve_secret(str(ref), name="scrubbed secret"))
        except Exception:
            continue
    return [v for v in values if v]


def digest(value: Any) -> str:
    """A short stable hash of JSON-like ``value`` (request keys and bodies)."""
    text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def active() -> Recorder | Replayer | None:
    """The recorder or replayer the environment asks for, or None (the normal case)."""
    replay, record = os.environ.get(REPLAY_ENV, ""), os.environ.get(RECORD_ENV, "")
    if not replay and not record:
        return None
    with _lock:
        key = (replay, record)
        if key not in _modes:
            _modes.clear()
            _modes[key] = Replayer(Path(replay)) if replay else Recorder(Path(record))
        return _modes[key]


def exchange(
    connector: str,
    operation: str,
    key: Mapping[str, Any],
    perform: Callable[[], T],
    encode: Callable[[T], Payload],
    decode: Callable[[dict[str, Any], Documents | None], T],
) -> T:
    """Run ``perform`` (recording what it answered), or answer from the recording."""
    mode = active()
    if mode is None:
        return perform()
    clean_key = json.loads(scrub(json.dumps(dict(key), sort_keys=True, default=str)))
    if isinstance(mode, Replayer):
        payload, documents = mode.answer(connector, operation, clean_key)
        return decode(payload, documents)
    result = perform()
    payload, documents = encode(result)
    mode.write(connector, operation, clean_key, payload, documents)
    return result


@dataclass
class Recorder:
    """Writes ``exchanges/NNNN.json`` (and ``NNNN.arrow`` or ``.jsonl`` for documents)."""

    folder: Path

    def __post_init__(self) -> None:
        self.dir = self.folder / EXCHANGES
        self.dir.mkdir(parents=True, exist_ok=True)
        self.count = len(list(self.dir.glob("*.json")))
        self.lock = threading.Lock()

    def write(
        self,
        connector: str,
        operation: str,
        key: dict[str, Any],
        payload: dict[str, Any],
        documents: Documents | None,
    ) -> None:
        stem = self._claim()
        entry: dict[str, Any] = {
            "connector": connector,
            "operation": operation,
            "key": key,
            "key_digest": digest(key),
            "payload": payload,
        }
        if documents is not None:
            entry["documents"] = write_documents(documents, self.dir / stem)
        text = scrub(json.dumps(entry, indent=1, sort_keys=True, default=str, ensure_ascii=False))
        write_text_atomically(self.dir / f"{stem}.json", text + "\n")

    def _claim(self) -> str:
        """The next free number: created exclusively, so a process this one calls (which
        records into the same case) never takes the same one."""
        with self.lock:
            while True:
                self.count += 1
                stem = f"{self.count:04d}"
                try:
                    os.close(os.open(self.dir / f"{stem}.json", os.O_CREAT | os.O_EXCL))
                except FileExistsError:
                    continue
                return stem


@dataclass
class Replayer:
    """Answers requests from ``exchanges/``, the same key in the recorded order."""

    folder: Path

    def __post_init__(self) -> None:
        self.entries: dict[tuple[str, str, str], list[Path]] = {}
        self.served: dict[tuple[str, str, str], int] = {}
        self.lock = threading.Lock()
        for file in sorted((self.folder / EXCHANGES).glob("*.json")):
            text = file.read_text(encoding="utf-8")
            if not text:
                continue  # a number claimed by a recording cut short before it wrote
            entry = json.loads(text)
            index = (entry["connector"], entry["operation"], entry["key_digest"])
            self.entries.setdefault(index, []).append(file)

    def answer(
        self, connector: str, operation: str, key: dict[str, Any]
    ) -> tuple[dict[str, Any], Documents | None]:
        index = (connector, operation, digest(key))
        with self.lock:
            files = self.entries.get(index, [])
            served = self.served.get(index, 0)
            self.served[index] = served + 1
        if served >= len(files):
            shown = json.dumps(key, sort_keys=True, default=str, ensure_ascii=False)
            times = f"only {len(files)} time(s)" if files else "never"
            raise NotRecordedError(
                f"replay of {self.folder.name}: {connector} {operation} was not recorded "
                f"(asked {served + 1} time(s), recorded {times}); request key {shown}",
                hint="record the case again (atomnb record ... --case NAME) if the "
                "process now asks this on purpose",
            )
        entry = json.loads(files[served].read_text(encoding="utf-8"))
        documents = entry.get("documents")
        docs = read_documents(self.folder / EXCHANGES / documents) if documents else None
        return entry["payload"], docs


# -- documents and rejections -------------------------------------------------------------


def write_documents(documents: Documents, stem: Path) -> str:
    """Arrow IPC when no secret shows in the documents, else their scrubbed JSON Lines."""
    lines = documents_jsonl(documents)
    scrubbed = [scrub(line) for line in lines]
    if scrubbed == lines:
        path = write_ipc(documents.with_rejections(()), stem.with_suffix(".arrow"))
    else:
        path = stem.with_suffix(".jsonl")
        write_text_atomically(path, "".join(line + "\n" for line in scrubbed))
    return path.name


def read_documents(path: Path) -> Documents:
    if path.suffix == ".arrow":
        return read_ipc(path)
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    table = pa.Table.from_pylist([row["document"] for row in rows])
    names = sorted({name for row in rows for name in row.get("properties", {})})
    properties = {n: [row.get("properties", {}).get(n) for row in rows] for n in names}
    return Documents(table, properties)


def documents_jsonl(documents: Documents) -> list[str]:
    """One JSON line per document: its fields and its properties (values as their text)."""
    names = documents.property_names
    properties = {name: documents.property(name).to_pylist() for name in names}
    return [
        json.dumps(
            {"document": record, "properties": {n: properties[n][i] for n in names}},
            sort_keys=True,
            default=str,
            ensure_ascii=False,
        )
        for i, record in enumerate(documents.to_pylist())
    ]


def rejection_to_dict(rejection: Rejection) -> dict[str, Any]:
    """A rejection as JSON (its raw bytes base64), for a recorded answer."""
    raw = rejection.raw
    if raw is not None:  # base64 would hide a secret from the text scrubber: scrub first
        raw = scrub(raw.decode("utf-8", "replace")).encode("utf-8")
    return {
        "message": rejection.message,
        "where": rejection.where,
        "rule": rejection.rule,
        "index": rejection.index,
        "raw": base64.b64encode(raw).decode("ascii") if raw is not None else None,
        "problems": list(rejection.problems),
        "properties": rejection.properties,
    }


def rejection_from_dict(data: Mapping[str, Any]) -> Rejection:
    raw = data.get("raw")
    return Rejection(
        message=str(data["message"]),
        where=str(data["where"]),
        rule=str(data["rule"]),
        index=data.get("index"),
        raw=base64.b64decode(raw) if raw else None,
        problems=tuple(data.get("problems") or ()),
        properties=data.get("properties"),
    )
