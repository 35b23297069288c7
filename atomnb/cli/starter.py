"""What ``atomnb init`` puts in a new workspace so that it runs at once.

A starter process notebook (``notebooks/starter.ipynb``) with a parameters cell,
a small sample file beside it (``notebooks/data/orders.csv``) and a ``dev``
environment (``extensions/dev.toml``): ``atomnb run notebooks/starter.ipynb
--env dev`` works straight after ``init``, and the run shows each shape's counts.
Files that already exist are left as they are, so ``init`` can be repeated.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from atomnb.components import Workspace

__all__ = ["STARTER", "write_starter"]

STARTER = "starter"

_SAMPLE = """\
order_id,customer,country,total
SO-1001,Acme GmbH,DE,120.50
SO-1002,Borealis Oy,FI,35.00
SO-1003,Cordillera SA,CL,980.00
SO-1004,Dune Traders,MA,15.75
SO-1005,Eastwind Ltd,GB,260.00
SO-1006,Fjord AS,NO,49.99
"""

_DEV = """\
# Environment "dev": what differs from the notebooks' defaults when run with --env dev.
# Secrets are references only (env:VAR or file:PATH), never values.

[parameters]
# applies to every process that declares the parameter

[processes.starter.parameters]
min_total = 50.0
"""

_INTRO = """\
# Starter process

A process notebook: the cell tagged `parameters` holds its defaults, which
`--env` (extensions/*.toml) and `-p NAME VALUE` override. It reads the sample
orders, splits them by total with a decision shape, and writes the big ones to
this execution's output folder.

```bash
atomnb run notebooks/starter.ipynb --env dev              # run it now, recorded
atomnb executions show ID                                  # its shapes and counts
atomnb deploy notebooks/starter.ipynb --atom http://127.0.0.1:8765 --schedule "0 2 * * *"
```
"""

_PARAMETERS = """\
# Parameters: defaults here; environment extensions and `atomnb run -p` override them.
sample = "data/orders.csv"  # the orders to read, relative to this notebook
min_total = 100.0  # orders at or above this total are "big"
output_name = "big_orders.json"  # the file written into the execution's output folder
"""

_READ = """\
import atomnb as ab

orders = ab.start(ab.read(sample, infer_types=True), name="orders")
big, small = ab.decision(orders, f"total >= {min_total}", name="big orders")
print(f"{len(orders)} orders: {len(big)} big, {len(small)} small")
big
"""

_WRITE = """\
target = ab.context().output_dir / output_name
ab.write(big, target)
ab.notify("{count} big orders written", big)
print(f"wrote {len(big)} orders to {target}")
"""


def _cell(index: int, kind: str, source: str, tags: list[str] | None = None) -> dict[str, Any]:
    cell: dict[str, Any] = {
        "cell_type": kind,
        "id": f"starter-{index}",
        "metadata": {"tags": tags} if tags else {},
        "source": source.splitlines(keepends=True),
    }
    if kind == "code":
        cell["execution_count"] = None
        cell["outputs"] = []
    return cell


def starter_notebook() -> dict[str, Any]:
    """The starter process as nbformat 4.5 JSON (written without loading nbformat)."""
    cells = [
        _cell(0, "markdown", _INTRO),
        _cell(1, "code", _PARAMETERS, ["parameters"]),
        _cell(2, "code", _READ),
        _cell(3, "code", _WRITE),
    ]
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
            "atomnb": {"process": True},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def write_starter(workspace: Workspace) -> list[Path]:
    """Write the starter files that are not there yet; returns those written."""
    files = {
        workspace.extensions_dir / "dev.toml": _DEV,
        workspace.notebooks_dir / "data" / "orders.csv": _SAMPLE,
        workspace.notebooks_dir / f"{STARTER}.ipynb": json.dumps(
            starter_notebook(), indent=1, ensure_ascii=False
        )
        + "\n",
    }
    written = []
    for path, text in files.items():
        if path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
