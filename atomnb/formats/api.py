"""``read`` and ``write``: the public entry points from bytes to Documents and back."""

from __future__ import annotations

import io
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from atomnb.documents import DEFAULT_BATCH_ROWS, Documents, DocumentStream
from atomnb.documents.progress import progress
from atomnb.formats.base import Source
from atomnb.formats.registry import AMBIGUOUS_SUFFIXES, default_registry
from atomnb.profiles import Profile, apply_profile, load_profile
from atomnb.profiles import infer_profile as infer_from_documents

__all__ = ["infer_profile", "read", "read_stream", "write"]

SourceLike = str | Path | bytes | bytearray | IO[bytes] | Source
ProfileLike = Profile | str
#: The key under which a profile keeps the options its files are read with.
READ_OPTIONS = "read"
log = logging.getLogger("atomnb.formats")


def read_stream(
    source: SourceLike,
    format: str | None = None,
    *,
    profile: ProfileLike | None = None,
    batch_size: int | None = None,
    **options: Any,
) -> DocumentStream:
    """Read lazily, one batch of at most ``batch_size`` documents at a time (bounded memory).

    Without ``batch_size`` each format picks its own (65,536 rows for flat formats,
    1,000 documents for nested EDI and XML trees).

    With a ``profile`` (a Profile or the name of a profile component) each batch is
    validated and typed by it; documents that do not fit become the batch's rejections.
    """
    src = Source.of(source)
    resolved = (load_profile(profile) if isinstance(profile, str) else profile) if profile else None
    if resolved is not None:
        # A profile carries how its files are read (format, layout, delimiter, record path …).
        format = format or resolved.format
        options = {**resolved.options.get(READ_OPTIONS, {}), **options}
    fmt, implied = default_registry().resolve(format, src)
    default_size: int = getattr(fmt, "default_batch_size", DEFAULT_BATCH_ROWS)
    size = batch_size if batch_size is not None else default_size
    batches = fmt.read_batches(src, batch_size=size, **{**implied, **options})
    if resolved is not None:
        typed = resolved
        batches = (apply_profile(batch, typed, source=src.name) for batch in batches)
    return DocumentStream(_warn_rejections(_told(batches, src)), source=src.name)


def _format_from_properties(documents: Documents) -> str | None:
    """EDI documents say what they are: their envelope properties are ``x12.*`` or ``edifact.*``."""
    for prefix in ("x12", "edifact"):
        if any(p.startswith(prefix + ".") for p in documents.property_names):
            return prefix
    return None


def _told(batches: Iterator[Documents], src: Source) -> Iterator[Documents]:
    """The batches, with the bytes read so far told as progress (silent unless someone watches)."""
    with progress(f"reading {src.name}", unit="B", total=src.size()) as bar:
        if not bar.shown:
            yield from batches
            return
        documents = 0
        for batch in batches:
            documents += len(batch)
            bar.update(src.position(), _documents(documents))
            yield batch
        bar.finish(_documents(documents))


def _documents(count: int) -> str:
    return f"{count:,} document" + ("" if count == 1 else "s")


def _warn_rejections(batches: Iterator[Documents]) -> Iterator[Documents]:
    """Rejections never pass silently: each batch that carries some is logged as a warning."""
    for batch in batches:
        if batch.rejections:
            log.warning(
                "%d document(s) rejected, first: %s", len(batch.rejections), batch.rejections[0]
            )
        yield batch


def read(
    source: SourceLike,
    format: str | None = None,
    *,
    profile: ProfileLike | None = None,
    batch_size: int | None = None,
    **options: Any,
) -> Documents:
    """Read every document of ``source`` (a path, bytes or a binary file) into one batch.

    >>> import atomnb as ab
    >>> ab.read(b'[{"id": 1}, {"id": 2}]', format="json").to_pylist()
    [{'id': 1}, {'id': 2}]
    """
    stream = read_stream(source, format, profile=profile, batch_size=batch_size, **options)
    return stream.collect()


def infer_profile(
    source: Documents | SourceLike,
    format: str | None = None,
    *,
    name: str | None = None,
    **options: Any,
) -> Profile:
    """Infer a profile from sample documents, or from a sample file or bytes (read first).

    >>> import atomnb as ab
    >>> print(ab.infer_profile(b'[{"id": "7", "on": "2026-03-04"}]', format="json", name="o"))
    o (json)
      id: integer mandatory  e.g. '7'
      on: date mask=%Y-%m-%d mandatory  e.g. '2026-03-04'
    """
    if isinstance(source, Documents):
        return infer_from_documents(source, name=name or "inferred", format=format)
    src = Source.of(source)
    fmt, _ = default_registry().resolve(format, src)
    documents = read(src, format, **options)
    default_name = src.path.stem if src.path is not None else "inferred"
    inferred = infer_from_documents(documents, name=name or default_name, format=fmt.name)
    if options:  # remembered, so reading with the profile needs nothing more
        inferred = replace(inferred, options={**inferred.options, READ_OPTIONS: _plain(options)})
    return inferred


def _plain(options: dict[str, Any]) -> dict[str, Any]:
    """Read options as they can be saved in a component file (layouts as dicts)."""
    return {k: (v.to_dict() if hasattr(v, "to_dict") else v) for k, v in options.items()}


def write(
    documents: Documents,
    destination: str | Path | IO[bytes] | None = None,
    format: str | None = None,
    **options: Any,
) -> bytes | None:
    """Write documents; with no destination return the bytes. Files are replaced atomically."""
    name = destination if isinstance(destination, (str, Path)) else None
    probe = Source(str(name), path=Path(name)) if name is not None else Source("<bytes>")
    if format is None and (name is None or Path(name).suffix.lower() in AMBIGUOUS_SUFFIXES):
        # No destination, or one whose name does not say (".edi"): EDI documents know
        # what they are from their envelope properties.
        format = _format_from_properties(documents) or ("json" if name is None else None)
    fmt, implied = default_registry().resolve(format, probe)
    merged = {**implied, **options}
    if destination is None:
        buffer = io.BytesIO()
        fmt.write(documents, buffer, **merged)
        return buffer.getvalue()
    if name is None:
        fmt.write(documents, destination, **merged)  # type: ignore[arg-type]
        return None
    target = Path(name)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Temp file + rename: a crash or a full disk never leaves a half-written output behind.
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            fmt.write(documents, handle, **merged)
        Path(temp).replace(target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return None
