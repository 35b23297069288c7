"""``atomnb executions rejections ID``: the documents an execution rejected, and their bytes.

The list comes from the atom (``GET /api/executions/{id}/rejections``) or, with
``--local``, from the workspace's own execution folder, where ``atomnb run``
keeps ``rejections.jsonl``. ``--out DIR`` writes each kept document's bytes to a
file of its own (names made from the position, shape and document index, never
from the data alone, so nothing lands outside DIR) and ``rejections.json``, the
list without the bytes, naming each file.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path, PurePosixPath
from typing import Any

import click

from atomnb.cli.executions import _ATOM, _LOCAL, _atom, _group_json, _say_source, executions
from atomnb.cli.present import JSON_OPTION, echo_json, show_grid
from atomnb.errors import NotFoundError

__all__: list[str] = []

#: What ``--out`` writes beside the documents: the list, bytes left out.
MANIFEST = "rejections.json"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@executions.command("rejections")
@click.argument("execution_id")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write each rejected document's kept bytes to a file in this folder.",
)
@_ATOM
@_LOCAL
@JSON_OPTION
@click.pass_context
def executions_rejections(
    ctx: click.Context,
    execution_id: str,
    out_dir: Path | None,
    atom_url: str | None,
    local: bool,
    as_json: bool,
) -> None:
    """List the documents an execution rejected (shape, rule, message); --out writes their bytes.

    ``--json`` prints ``{"execution": ..., "rejections": [...]}`` as the atom's API
    has them (``bytes`` in base64, null when not kept: ``bytes_dropped`` says why).
    """
    address = _atom(ctx, atom_url, local)
    if address is not None:
        from atomnb.atom.client import AtomClient

        with AtomClient(address, timeout_s=60) as client:
            found = client.request("GET", f"/api/executions/{execution_id}/rejections").json()
        execution, rejections = str(found["execution"]), list(found["rejections"])
    else:
        execution, rejections = _local(ctx, execution_id)
    _say_source(ctx, address)
    files = _write(out_dir, rejections) if out_dir is not None else {}
    if as_json or _group_json(ctx):
        echo_json({"execution": execution, "rejections": rejections})
    elif not rejections:
        click.echo(f"execution {execution} rejected no documents (or kept none)")
    else:
        rows = [_row(number, r) for number, r in enumerate(rejections)]
        header = ["#", "shape", "rule", "where", "document", "bytes", "message"]
        if files:
            header.append("file")
            rows = [[*row, files.get(number, "-")] for number, row in enumerate(rows)]
        show_grid(header, rows)
    if out_dir is not None:
        kept = len(files)
        click.secho(
            f"{kept} of {len(rejections)} rejected documents written to {out_dir}", err=True
        )


def _local(ctx: click.Context, execution_id: str) -> tuple[str, list[dict[str, Any]]]:
    from atomnb.process.rejections import REJECTIONS_FILE, read_rejections

    workspace, store = ctx.obj.open()
    try:
        record = store.get(execution_id)
    except NotFoundError as exc:
        raise NotFoundError(
            f"{exc.message} in the local store",
            hint="if it ran on an atom, leave out --local (or give --atom URL)",
        ) from None
    path = workspace.executions_dir / record.id / REJECTIONS_FILE
    return record.id, read_rejections(path.read_bytes() if path.is_file() else None)


def _row(number: int, rejection: dict[str, Any]) -> list[str]:
    if rejection.get("bytes") is not None:
        size = str(rejection.get("size"))
    elif rejection.get("bytes_dropped"):
        size = f"not kept ({rejection.get('dropped')})"
    else:
        size = "-"
    index = rejection.get("index")
    return [
        str(number),
        str(rejection.get("shape_name", "")),
        str(rejection.get("rule", "")),
        str(rejection.get("where", "")),
        "-" if index is None else str(index),
        size,
        str(rejection.get("message", "")),
    ]


def _write(out_dir: Path, rejections: list[dict[str, Any]]) -> dict[int, str]:
    """Each kept document to its own file, and the list (without bytes) naming them."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[int, str] = {}
    manifest = []
    for number, rejection in enumerate(rejections):
        entry = {k: v for k, v in rejection.items() if k != "bytes"}
        kept = rejection.get("bytes")
        if isinstance(kept, str):
            data = base64.b64decode(kept)
            name = _file_name(number, rejection, data)
            (out_dir / name).write_bytes(data)
            files[number] = entry["file"] = name
        manifest.append(entry)
    text = json.dumps(manifest, indent=2, ensure_ascii=False)
    (out_dir / MANIFEST).write_text(text + "\n", encoding="utf-8")
    return files


def _file_name(number: int, rejection: dict[str, Any], data: bytes) -> str:
    """``0003_<shape>_<document>.<suffix>``: the suffix of the file it came from, else guessed."""
    shape = (
        _UNSAFE.sub("_", str(rejection.get("shape_name") or "shape"))[:40].strip("._") or "shape"
    )
    index = rejection.get("index")
    stem = f"{number:04d}_{shape}" + ("" if index is None else f"_{index}")
    return stem + _suffix(rejection, data)


def _suffix(rejection: dict[str, Any], data: bytes) -> str:
    properties = rejection.get("properties") or {}
    named = properties.get("file_name") if isinstance(properties, dict) else None
    where = str(rejection.get("where") or "")
    for candidate in (named, None if any(c.isspace() for c in where) else where):
        suffix = PurePosixPath(str(candidate or "").replace("\\", "/")).suffix
        if re.fullmatch(r"\.[A-Za-z0-9]{1,10}", suffix):
            return suffix.lower()
    try:
        json.loads(data)
    except ValueError:
        return ".bin"
    return ".json"
