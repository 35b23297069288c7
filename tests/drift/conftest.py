"""A process fed documents that drift from its profiles: a new field and a changed type.

The documents come from files written by the test (their values never appear in the
notebook's source), through a parse shape with a profile and a map with a source profile.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat

#: Values that must never leave the input files: not the store, logs, output or messages.
NEW_FIELD_VALUE = "coupon-Zq81-SECRETVALUE"
OFF_TYPE_VALUE = "lots-of-Xk22"
MAP_FIELD_VALUE = "colour-Vv39-teal"

SETUP = """\
import atomnb as ab
from pathlib import Path
from atomnb.maps import Map, Rule, Step
from atomnb.profiles import Element, ElementType as T, Profile
ORDERS = Profile(
    "orders", (Element("id", T.INTEGER, mandatory=True), Element("total", T.DECIMAL)), format="json"
)
LINE = Profile("order_line", (Element("sku", T.STRING), Element("qty", T.STRING)))
OUT = Profile("invoice_line", (Element("sku", T.STRING), Element("q", T.INTEGER)))
MAP = Map("lines", LINE, OUT, (Rule("sku", ("sku",)), Rule("q", ("qty",), (Step("to_integer"),))))
"""
BODY = """\
raw = ab.raw_documents([Path(orders_file).read_bytes()], {"file_name": ["orders.json"]})
orders = ab.parse_documents(raw, format="json", profile=ORDERS, name="read orders")
lines = ab.read(Path(lines_file), format="jsonl")
invoices = ab.map(lines, MAP, name="to invoice lines")
ab.notify("{count} invoice line(s)", invoices)
"""


def drift_inputs(folder: Path, *, off_type: bool = True) -> dict[str, str]:
    """Input files: 3 orders (2 with a new field, 1 whose total is not a number if
    ``off_type``) and 2 order lines (1 with a new field); the notebook's parameters."""
    folder.mkdir(parents=True, exist_ok=True)
    orders = [
        {"id": "1", "total": "9.5", "coupon": NEW_FIELD_VALUE},
        {"id": "2", "total": OFF_TYPE_VALUE if off_type else "3", "coupon": NEW_FIELD_VALUE},
        {"id": "3", "total": "4"},
    ]
    # qty arrives as numbers (the profile says text): the map types the lines with its source
    # profile, and that is where drift is measured (documents already typed as the source
    # profile says go through the map without a profile pass, unmeasured)
    lines = [{"sku": "A-1", "qty": 2, "colour": MAP_FIELD_VALUE}, {"sku": "B-2", "qty": 1}]
    (folder / "orders.json").write_text(json.dumps(orders), encoding="utf-8")
    (folder / "lines.jsonl").write_text(
        "".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8"
    )
    return {"orders_file": str(folder / "orders.json"), "lines_file": str(folder / "lines.jsonl")}


def drift_notebook(path: Path, policy: str | None) -> Path:
    """The process notebook, with ``atomnb.drift: policy`` in its metadata (None: default)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nb.metadata["kernelspec"]["language"] = "python"
    if policy is not None:
        nb.metadata["atomnb"] = {"drift": policy}
    nb.cells = [
        nbformat.v4.new_code_cell(
            'orders_file = ""\nlines_file = ""', metadata={"tags": ["parameters"]}
        ),
        nbformat.v4.new_code_cell(SETUP),
        nbformat.v4.new_code_cell(BODY),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


#: The drift the store keeps for the inputs above (off_type only with ``off_type=True``).
ORDERS_DRIFT = {
    "profile": "orders",
    "documents": 3,
    "new_fields": {"coupon": 2},
    "off_type": {"total": 1},
    "missing_mandatory": {},
    "new_codes": {},
}
LINES_DRIFT = {
    "profile": "order_line",
    "documents": 2,
    "new_fields": {"colour": 1},
    "off_type": {},
    "missing_mandatory": {},
    "new_codes": {},
}
