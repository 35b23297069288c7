"""Big maps on a Dask cluster: a partitioned source mapped file by file on the workers.

A source too big for one machine is usually already a set of files (a folder or
a glob, local or object storage). Each file is a partition: a worker reads it,
runs the compiled map on it and writes its part of the output (``part-00000``,
``part-00001`` … in the sorted order of the source files), so no document goes
through the client and memory on a worker is bounded by one file. What the map
rejects comes back with the partition's counts and is gathered in the result
(and written beside the parts as ``_rejections.jsonl``), each rejection naming
its source file; nothing is dropped.

Everything a partition's result depends on is decided once, on the client, so
every worker maps alike and the result equals a local run: the map, its
cross-reference tables (loaded here from the workspace) and the run's properties
(``now`` among them — one instant for the whole map, not one per partition).
Without a cluster (``client=None``) the same partitions run here, one by one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from atomnb import _clock as clock
from atomnb.documents import Documents, Rejection
from atomnb.errors import MapError
from atomnb.formats import read, write
from atomnb.maps import Map
from atomnb.maps.apply import apply_map
from atomnb.maps.xref import tables_for

__all__ = ["PartitionResult", "PartitionedMap", "map_partitions"]

_REJECTIONS = "_rejections.jsonl"


@dataclass(frozen=True)
class PartitionResult:
    """One source file mapped: where its output went, its counts and its rejections."""

    source: str
    output: str
    read: int
    mapped: int
    rejections: tuple[Rejection, ...] = ()
    worker: str | None = None


@dataclass
class PartitionedMap:
    """A whole partitioned map: each partition's result, in source order."""

    output: str
    partitions: list[PartitionResult] = field(default_factory=list)

    @property
    def mapped(self) -> int:
        return sum(p.mapped for p in self.partitions)

    @property
    def rejections(self) -> list[Rejection]:
        return [r for p in self.partitions for r in p.rejections]


def map_partitions(
    mapping: Map,
    source: str,
    output: str,
    *,
    client: Any | None = None,
    format: str | None = None,
    output_format: str = "jsonl",
    properties: Mapping[str, Any] | None = None,
    tables: Mapping[str, Mapping[str, Any]] | None = None,
    read_options: Mapping[str, Any] | None = None,
) -> PartitionedMap:
    """Map every file of ``source`` (a folder, a glob or an fsspec URL of either) to ``output``.

    ``client`` is a ``distributed.Client``: each file becomes one task on its
    workers; without one the files are mapped here in turn. ``format`` names the
    source format when the files' suffix does not say it.
    """
    import fsspec

    files = _partitions(source)
    if not files:
        raise MapError(f"no files match {source!r}: nothing to map")
    fs, root = fsspec.core.url_to_fs(output)
    fs.makedirs(root, exist_ok=True)
    suffix = output_format.split(".")[-1]
    job = _Job(
        mapping=mapping,
        format=format,
        output_format=output_format,
        properties={"now": clock.now(), **(properties or {})},
        tables=dict(tables if tables is not None else tables_for(mapping)),
        read_options=dict(read_options or {}),
    )
    targets = [_join(output, f"part-{n:05d}.{suffix}") for n in range(len(files))]
    if client is None:
        results = [job.run(src, dst) for src, dst in zip(files, targets, strict=True)]
    else:
        futures = [
            client.submit(job.run, src, dst, key=f"atomnb-map-{mapping.name}-{n}-{id(job):x}")
            for n, (src, dst) in enumerate(zip(files, targets, strict=True))
        ]
        results = client.gather(futures)
    done = PartitionedMap(output, list(results))
    lines = [
        json.dumps({"where": r.where, "rule": r.rule, "index": r.index, "message": r.message})
        for r in done.rejections
    ]
    fs.pipe_file(f"{root.rstrip('/')}/{_REJECTIONS}", ("\n".join(lines) + "\n").encode())
    return done


@dataclass(frozen=True)
class _Job:
    """What every partition shares; sent to the workers with each task."""

    mapping: Map
    format: str | None
    output_format: str
    properties: dict[str, Any]
    tables: dict[str, Mapping[str, Any]]
    read_options: dict[str, Any]

    def run(self, source: str, target: str) -> PartitionResult:
        import fsspec

        with fsspec.open(source, "rb") as handle:
            data = handle.read()
        fmt = self.format or _format_of(source)
        documents = read(data, fmt, profile=self.mapping.source, **self.read_options)
        read_rejections = [_named(r, source) for r in documents.rejections]
        mapped = apply_map(self.mapping, documents, properties=self.properties, tables=self.tables)
        assert isinstance(mapped, Documents)
        with fsspec.open(target, "wb") as handle:  # rejections are not written: returned
            handle.write(write(mapped, None, self.output_format) or b"")
        before = len(documents.rejections)
        map_rejections = [_named(r, source) for r in mapped.rejections[before:]]
        return PartitionResult(
            source=source,
            output=target,
            read=len(documents),
            mapped=len(mapped),
            rejections=(*read_rejections, *map_rejections),
            worker=_worker_address(),
        )


def _partitions(source: str) -> list[str]:
    """The source's files as URLs, sorted: a folder's files, or what a glob matches."""
    import fsspec

    fs, path = fsspec.core.url_to_fs(source)
    if fs.isdir(path):
        found = [p for p in fs.find(path) if not PurePosixPath(p).name.startswith((".", "_"))]
    else:
        found = fs.glob(path)
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    return sorted(fs.unstrip_protocol(p) if protocol not in ("file", "local") else p for p in found)


def _join(folder: str, name: str) -> str:
    return f"{folder.rstrip('/')}/{name}"


def _format_of(source: str) -> str:
    suffix = PurePosixPath(source).suffix.lower().lstrip(".")
    if not suffix:
        raise MapError(f"{source}: no suffix to tell its format; give format=")
    return suffix


def _named(rejection: Rejection, source: str) -> Rejection:
    """A rejection that says which partition it came from."""
    if source in rejection.where:
        return rejection
    return Rejection(
        message=rejection.message,
        where=f"{source}: {rejection.where}",
        rule=rejection.rule,
        index=rejection.index,
        raw=rejection.raw,
        problems=rejection.problems,
        properties=rejection.properties,
    )


def _worker_address() -> str | None:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return None
