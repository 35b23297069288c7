"""Every format fed bytes of another format: an atomnb error with a position, never a
library's exception (pyarrow, lxml, ijson, json, codecs) and no traceback on stderr."""

from __future__ import annotations

import re

import pytest

import atomnb as ab
from atomnb.errors import AtomnbError

SAMPLES = {
    "jsonl": b'{"a": 1, "b": [1, 2]}\n{"a": 2, "b": {"c": 3}}\n{"a": "x"}\n',
    "json": b'[{"a": 1}, {"a": {"b": [1, 2, 3]}}]',
    "xml": b'<?xml version="1.0"?>\n<orders><order id="1"><line>2</line></order></orders>\n',
    "csv": b'id,name\n1,"a"\n2,"b, c"\n',
    "x12": b"ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
    b"*210101*1200*U*00401*000000001*0*P*>~GS*PO*S*R*20210101*1200*1*X*004010~ST*850*0001~"
    b"BEG*00*SA*1**20210101~SE*3*0001~GE*1*1~IEA*1*000000001~",
    "edifact": b"UNA:+.? 'UNB+UNOC:3+S+R+210101:1200+1'UNH+1+ORDERS:D:96A:UN'BGM+220+1'"
    b"UNT+3+1'UNZ+1+1'",
    "binary": bytes(range(256)) * 40,
    "latin1": "name;städte\nZoë;Köln\n".encode("latin-1"),
    "utf16": '[{"a": "b"}]'.encode("utf-16"),
    "empty": b"",
    "huge-int": b'[{"a": 1}, {"a": 123456789012345678901234567890}]',
    "duplicate-header": b"id,name,id\n1,a,2\n",
}
TARGETS = ["json", "jsonl", "csv", "tsv", "xml", "fixed", "x12", "edifact"]
#: Formats that refuse record by record: wrong bytes become positioned rejections.
PER_RECORD = {"jsonl", "fixed"}
#: Wrong input a format reads as something (CSV: one line of text is a header row).
READABLE = {
    ("csv", "x12"),
    ("csv", "edifact"),
    ("tsv", "x12"),
    ("tsv", "edifact"),
    ("tsv", "duplicate-header"),
    ("json", "jsonl"),
}
EMPTY_IS_NOTHING = {"json": False, "xml": False, "x12": False, "edifact": False}
POSITION = re.compile(r"(line|byte|document|documents|segment|column) \d+")


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_wrong_bytes_give_a_positioned_atomnb_error(
    target: str, name: str, capfd: pytest.CaptureFixture[str]
) -> None:
    if name == target or (target == "tsv" and name == "csv"):
        pytest.skip("the format's own bytes")
    options = {"layout": "nacha"} if target == "fixed" else {}
    try:
        docs = ab.read(SAMPLES[name], format=target, **options)
    except AtomnbError as exc:
        assert POSITION.search(str(exc)), f"no position in: {exc}"
    else:
        per_record = target in PER_RECORD or (target, name) in READABLE
        nothing = name == "empty" and not EMPTY_IS_NOTHING.get(target, True)
        assert per_record or name == "empty", f"{target} read {name} bytes without a word"
        assert not nothing, f"{target} read an empty input without a word"
        for rejection in docs.rejections:
            assert POSITION.search(rejection.where), rejection
    # Never a library's "Exception ignored" or traceback noise on the way.
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Exception ignored" not in err, err
