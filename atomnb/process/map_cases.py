"""Map test cases: a sample in, the expected documents out, replayed by ``pytest --atomnb``.

Here (process layer, below both) so the notebook magics and the pytest plugin share it.

``save_map_case(map, sample, name)`` keeps the sample (Arrow IPC: types survive)
and what the saved map makes of it now, as a case of kind ``map`` next to the
process cases. The replay maps the sample again with the map component as it is
then, with the same pinned clock, and compares like a process case's map shape,
naming the rule behind each field that changed.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from atomnb._clock import PIN_CLOCK_ENV, PIN_SEED_ENV
from atomnb._files import write_text_atomically
from atomnb.components import Workspace
from atomnb.connectors.recording import read_documents, write_documents
from atomnb.documents import Documents
from atomnb.errors import ConfigError
from atomnb.maps import Map, load_map
from atomnb.maps.xref import tables_for
from atomnb.process.case_outputs import ShapeOutputs
from atomnb.process.trace import ShapeRecord

__all__ = ["CASES_DIR", "CASE_FILE", "INPUT_FILE", "SHAPES", "run_map_case", "save_map_case"]

#: Where a workspace keeps its recorded test cases, one folder each (process and map cases).
CASES_DIR = Path("tests") / "atomnb"
CASE_FILE = "case.json"
SHAPES = "shapes"
INPUT_FILE = "input.arrow"


def save_map_case(
    mapping: Map | str,
    sample: Documents,
    name: str,
    *,
    workspace: Workspace | None = None,
    cases_dir: Path | None = None,
) -> Path:
    """Save ``sample`` and the saved map's output for it as test case ``name``; its folder.

    The map must be a saved component (the replay loads it by name, as it is then).
    """
    ws = workspace or Workspace.find()
    map_name = mapping if isinstance(mapping, str) else mapping.name
    load_map(map_name, workspace=ws)  # refuses a map that is not saved, naming it
    folder = (cases_dir or ws.root / CASES_DIR) / name
    shutil.rmtree(folder / SHAPES, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("input.*"):
        old.unlink()
    data = {
        "kind": "map",
        "format": 1,
        "map": map_name,
        "input": write_documents(sample, folder / "input"),  # scrubbed, as exchanges are
        "clock": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "seed": name,
    }
    run_map_case(folder, data, folder / SHAPES, workspace=ws)
    write_text_atomically(folder / CASE_FILE, json.dumps(data, indent=2) + "\n")
    return folder


def run_map_case(
    folder: Path, data: Mapping[str, Any], shapes: Path, *, workspace: Workspace | None = None
) -> Path:
    """Map the case's sample with the saved map; its output written to ``shapes``."""
    if "map" not in data:
        raise ConfigError(f"map test case {folder} names no map")
    ws = workspace or Workspace.find(folder)
    mapping = load_map(str(data["map"]), workspace=ws)
    sample = read_documents(folder / str(data.get("input", INPUT_FILE)))
    with _pinned(str(data["clock"]), str(data["seed"])):
        out = mapping(sample, tables=tables_for(mapping, workspace=ws))  # not the cwd's
    assert isinstance(out, Documents)
    record = ShapeRecord(index=0, name=mapping.name, kind="map", documents_in=len(sample))
    ShapeOutputs(shapes, keep=None, max_bytes=50_000_000)(record, {"out": out})
    return shapes


@contextmanager
def _pinned(clock: str, seed: str) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in (PIN_CLOCK_ENV, PIN_SEED_ENV)}
    os.environ[PIN_CLOCK_ENV], os.environ[PIN_SEED_ENV] = clock, seed
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
