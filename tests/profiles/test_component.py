from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import atomnb as ab
from atomnb.components.files import ComponentFile, load_component, save_component
from atomnb.errors import ComponentError
from atomnb.profiles import ElementType


@pytest.fixture
def ws(tmp_path: Path) -> ab.Workspace:
    return ab.Workspace.init(tmp_path / "ws")


def test_save_load_round_trip_is_readable_yaml(ws: ab.Workspace) -> None:
    profile = ab.infer_profile(
        ab.Documents.from_records([{"id": "1", "on": "2026-01-01", "lines": [{"sku": "A"}]}]),
        name="orders",
        format="json",
    ).replace_element("id", mandatory=True, description="order number")
    path = profile.save(workspace=ws)
    assert path == ws.components_dir / "profiles" / "orders.yaml"
    text = path.read_text(encoding="utf-8")
    stored = yaml.safe_load(text)
    assert stored["kind"] == "profile" and stored["version"] == 1
    assert stored["content_hash"].startswith("sha256:")
    assert stored["body"]["elements"][1] == {
        "name": "on",
        "type": "date",
        "mandatory": True,
        "mask": "%Y-%m-%d",
        "sample": "2026-01-01",
    }
    loaded = ab.load_profile("orders", workspace=ws)
    assert loaded == profile


def test_version_bumps_only_when_content_changes(ws: ab.Workspace) -> None:
    profile = ab.infer_profile(ab.Documents.from_records([{"a": "x"}]), name="p")
    path = profile.save(workspace=ws)
    first = path.read_text(encoding="utf-8")
    profile.save(workspace=ws)
    assert path.read_text(encoding="utf-8") == first  # unchanged: no new version, no diff
    profile.replace_element("a", type=ElementType.INTEGER).save(workspace=ws)
    again = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert again["version"] == 2 and again["id"] == yaml.safe_load(first)["id"]


def test_hand_edited_file_is_read_back(ws: ab.Workspace) -> None:
    target = ws.components_dir / "profiles" / "edited.yaml"
    target.write_text(
        "kind: profile\nname: edited\nbody:\n  format: csv\n  elements:\n"
        "    - {name: amount, type: decimal, scale: 2, mandatory: true}\n"
        "    - {name: tags, type: string, max_occurs: unbounded}\n",
        encoding="utf-8",
    )
    profile = ab.load_profile("edited", workspace=ws)
    assert profile.element("amount").scale == 2 and profile.element("tags").repeating


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kind: profile\nbody: [unclosed\n", r"edited\.yaml, line 3: not valid YAML"),
        ("kind: map\nbody: {}\n", "is a 'map', not a 'profile'"),
        ("kind: profile\nname: x\n", "not a component file"),
        ("kind: profile\nengine_version: 99\nbody: {elements: []}\n", "newer atomnb"),
        (
            "kind: profile\nbody:\n  elements: [{name: a, type: money}]\n",
            r"edited\.yaml: element a: unknown type 'money'",
        ),
    ],
)
def test_broken_component_files_name_the_file(ws: ab.Workspace, text: str, message: str) -> None:
    (ws.components_dir / "profiles" / "edited.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ab.AtomnbError, match=message):
        ab.load_profile("edited", workspace=ws)


def test_missing_component_lists_known_ones(ws: ab.Workspace) -> None:
    save_component(ws.components_dir, ComponentFile("profile", "known", {"elements": []}))
    with pytest.raises(ComponentError, match="known profiles: known"):
        load_component(ws.components_dir, "profile", "unknown")


def test_unsafe_component_names_are_refused(ws: ab.Workspace) -> None:
    with pytest.raises(ComponentError, match="not allowed"):
        save_component(ws.components_dir, ComponentFile("profile", "../escape", {}))


def test_a_profile_remembers_how_its_files_are_read(
    ws: ab.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import SAMPLES

    data = b"id;amount\n1;2.50\n2;3.75\n"
    profile = ab.infer_profile(data, format="csv", delimiter=";", name="semi")
    assert profile.options["read"] == {"delimiter": ";"}
    profile.save(workspace=ws)
    loaded = ab.load_profile("semi", workspace=ws)
    monkeypatch.chdir(ws.root)
    docs = ab.read(data, profile="semi")  # no format, no delimiter: the profile knows
    assert docs.to_pylist() == [{"id": 1, "amount": 2.5}, {"id": 2, "amount": 3.75}]
    assert loaded.format == "csv"

    layout = {
        "record_length": 55,
        "fields": [
            {"name": "employee_id", "width": 6, "type": "integer"},
            {"name": "name", "width": 20},
            {"name": "dept", "width": 4, "align": "right"},
            {"name": "salary", "width": 9, "type": "decimal", "implied_decimals": 2},
            {"name": "hired", "width": 8, "type": "date", "format": "%Y%m%d"},
            {"name": "active", "width": 1, "type": "boolean", "format": "Y/N"},
            {
                "name": "bonus",
                "width": 7,
                "type": "decimal",
                "scale": 2,
                "pad": " ",
                "optional": True,
            },
        ],
    }
    payroll = SAMPLES / "fixedwidth" / "atomnb_payroll.txt"
    fixed = ab.infer_profile(payroll, format="fixed", layout=layout, name="payroll")
    fixed.save(workspace=ws)
    again = ab.read(payroll, profile="payroll")
    assert again.to_pylist() == ab.read(payroll, format="fixed", layout=layout).to_pylist()
