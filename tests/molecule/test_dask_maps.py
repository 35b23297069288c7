"""A partitioned folder mapped on a real Dask cluster equals the same map run locally."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import atomnb as ab
from atomnb.atom.molecule.maps import map_partitions
from atomnb.documents import Documents
from atomnb.maps import Map, Rule, Step
from atomnb.profiles import Element, ElementType, Profile
from tests.molecule.conftest import DaskCluster, S3Outputs

pytestmark = pytest.mark.atom

S, INT = ElementType.STRING, ElementType.INTEGER
SOURCE = Profile("orders", (Element("id", S), Element("when", S), Element("qty", INT)))
TARGET = Profile("rows", (Element("id", S), Element("day", S), Element("double", INT)))
MAP = Map(
    "orders_to_rows",
    SOURCE,
    TARGET,
    (
        Rule("id", ("id",), (Step("upper"),)),
        Rule(
            "day",
            ("when",),
            (Step("parse_date", {"mask": "%Y-%m-%d"}), Step("format_date", {"mask": "%d.%m.%Y"})),
        ),
        Rule("double", ("qty",), (Step("multiply", {"value": 2}),)),
    ),
)


def _partitioned(folder: Path, files: int = 5, per_file: int = 40) -> Path:
    """JSON Lines files; every 7th order has a date that does not parse (a rejection)."""
    folder.mkdir()
    n = 0
    for f in range(files):
        lines = []
        for _ in range(per_file):
            when = "2026-02-30" if n % 7 == 3 else f"2026-{1 + n % 12:02d}-{1 + n % 28:02d}"
            lines.append(json.dumps({"id": f"so-{n:05d}", "when": when, "qty": n % 9}))
            n += 1
        (folder / f"orders-{f:02d}.jsonl").write_text("\n".join(lines) + "\n")
    return folder


def test_a_partitioned_folder_maps_on_the_workers_like_a_local_run(
    dask_cluster: DaskCluster, tmp_path: Path
) -> None:
    from distributed import Client

    source = _partitioned(tmp_path / "orders")
    with Client(dask_cluster.address, timeout=60, set_as_default=False) as client:
        done = map_partitions(
            MAP, f"{source}/*.jsonl", str(tmp_path / "out"), client=client, tables={}
        )
    # each partition ran on a worker of the cluster, and wrote its own part
    assert len(done.partitions) == 5
    assert {p.worker for p in done.partitions} <= set(dask_cluster.workers)
    parts = sorted((tmp_path / "out").glob("part-*.jsonl"))
    assert [p.name for p in parts] == [f"part-{n:05d}.jsonl" for n in range(5)]

    # the same map over the same documents, locally in one go
    local = MAP(Documents.concat(ab.read(p, profile=SOURCE) for p in sorted(source.iterdir())))
    assert isinstance(local, Documents)
    on_cluster = [row for part in parts for row in ab.read(part).to_pylist()]
    assert on_cluster == local.to_pylist()
    assert done.mapped == len(local) == 200 - len(local.rejections)
    assert len(local.rejections) == 29  # n % 7 == 3 for n < 200
    assert [(r.rule, r.message, r.raw) for r in done.rejections] == [
        (r.rule, r.message, r.raw) for r in local.rejections
    ]
    # each rejection names its partition, and all are written beside the parts
    assert all("orders-" in r.where for r in done.rejections)
    written = (tmp_path / "out" / "_rejections.jsonl").read_text().splitlines()
    assert len(written) == 29


def test_without_a_cluster_the_same_partitions_map_here(tmp_path: Path) -> None:
    source = _partitioned(tmp_path / "orders", files=2, per_file=10)
    done = map_partitions(MAP, str(source), str(tmp_path / "out"), tables={})
    assert [p.worker for p in done.partitions] == [None, None]
    assert done.mapped == 20 - len(done.rejections)
    assert done.rejections and all(r.rule == "day" for r in done.rejections)


def test_an_s3_glob_maps_on_the_workers_like_the_same_files_mapped_locally(
    s3_outputs: S3Outputs, s3_dask_cluster: DaskCluster, tmp_path: Path
) -> None:
    """Source and output on a real S3 API (moto on loopback); the workers read the bucket."""
    from distributed import Client

    source = _partitioned(tmp_path / "orders", files=4, per_file=30)
    s3 = s3_outputs.client()
    for path in sorted(source.iterdir()):
        s3.put_object(Bucket=s3_outputs.bucket, Key=f"in/{path.name}", Body=path.read_bytes())
    s3.put_object(Bucket=s3_outputs.bucket, Key="in/notes.txt", Body=b"not a partition")
    bucket = f"s3://{s3_outputs.bucket}"
    with Client(s3_dask_cluster.address, timeout=60, set_as_default=False) as client:
        remote = map_partitions(
            MAP, f"{bucket}/in/*.jsonl", f"{bucket}/out", client=client, tables={}
        )
    local = map_partitions(MAP, f"{source}/*.jsonl", str(tmp_path / "out"), tables={})

    assert [p.source for p in remote.partitions] == [
        f"{bucket}/in/orders-{n:02d}.jsonl" for n in range(4)
    ]
    assert {p.worker for p in remote.partitions} <= set(s3_dask_cluster.workers)
    assert remote.mapped == local.mapped > 0
    keys = sorted(s3_outputs.object_keys("out/"))
    assert keys == sorted(["out/_rejections.jsonl", *(f"out/part-{n:05d}.jsonl" for n in range(4))])
    for n in range(4):
        written = s3.get_object(Bucket=s3_outputs.bucket, Key=f"out/part-{n:05d}.jsonl")
        assert (
            ab.read(written["Body"].read(), "jsonl").to_pylist()
            == ab.read(tmp_path / "out" / f"part-{n:05d}.jsonl").to_pylist()
        )
    assert [(r.rule, r.message, r.raw) for r in remote.rejections] == [
        (r.rule, r.message, r.raw) for r in local.rejections
    ]
    assert all(r.where.startswith(f"{bucket}/in/orders-") for r in remote.rejections)
