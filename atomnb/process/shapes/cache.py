"""The document cache: documents kept by key for the rest of the execution.

>>> import atomnb as ab
>>> customers = ab.document_cache("customers", keys=["id"])
>>> customers.add(ab.Documents.from_records([{"id": "C1", "name": "Ann"}]))
1
>>> customers.get("C1")
[{'id': 'C1', 'name': 'Ann'}]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from atomnb.documents import Documents
from atomnb.errors import ProcessError
from atomnb.process.run import current_run

__all__ = ["DocumentCache", "document_cache"]


class DocumentCache:
    """Documents indexed by one or more key fields; scoped to one execution."""

    def __init__(self, name: str, keys: Sequence[str]) -> None:
        if not keys:
            raise ProcessError(f"document cache {name!r} needs at least one key field")
        self.name = name
        self.keys = tuple(keys)
        self._entries: dict[tuple[Any, ...], list[dict[str, Any]]] = {}

    def __len__(self) -> int:
        return sum(len(v) for v in self._entries.values())

    def add(self, documents: Documents) -> int:
        """Add documents (several may share a key); returns how many the cache holds."""
        missing = [k for k in self.keys if k not in documents.column_names]
        if missing and len(documents):
            raise ProcessError(
                f"document cache {self.name!r}: documents have no field(s) {missing}"
            )
        with current_run().shape("cache_add", self.name, documents) as call:
            for record in documents:
                self._entries.setdefault(self._key(record), []).append(record)
            call.out("cached", documents)
        return len(self)

    def get(self, *key: Any) -> list[dict[str, Any]]:
        """The documents cached under ``key`` (one value per key field), or an empty list."""
        return list(self._entries.get(self._normalise(key), []))

    def lookup(self, documents: Documents, field: str, *, into: str) -> Documents:
        """For each document, ``field`` of the first cached document with the same keys."""
        values = []
        for record in documents:
            hits = self._entries.get(self._key(record), [])
            values.append(hits[0].get(field) if hits else None)
        return documents.with_properties(**{into: values})

    def retrieve(self) -> Documents:
        """Every cached document, as a batch."""
        return Documents.from_records([r for group in self._entries.values() for r in group])

    def remove(self, *key: Any) -> int:
        """Remove the documents under ``key``; returns how many were removed."""
        return len(self._entries.pop(self._normalise(key), []))

    def clear(self) -> None:
        self._entries.clear()

    def _key(self, record: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(record.get(k) for k in self.keys)

    def _normalise(self, key: tuple[Any, ...]) -> tuple[Any, ...]:
        if len(key) != len(self.keys):
            raise ProcessError(
                f"document cache {self.name!r} is keyed by {', '.join(self.keys)}: "
                f"give {len(self.keys)} value(s)"
            )
        return key


def document_cache(name: str, keys: Sequence[str] | None = None) -> DocumentCache:
    """The execution's cache ``name`` (made with ``keys`` on first use)."""
    caches = current_run().caches
    if name not in caches:
        if keys is None:
            raise ProcessError(f"document cache {name!r} does not exist yet; give its keys")
        caches[name] = DocumentCache(name, keys)
    cache = caches[name]
    assert isinstance(cache, DocumentCache)
    return cache
