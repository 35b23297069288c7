"""The profile tree and the components table as HTML (what the magics display)."""

from __future__ import annotations

from atomnb.components import Workspace
from atomnb.nb.display import components_html, occurs, profile_tree_html
from atomnb.nb.inventory import workspace_components
from atomnb.profiles import Element, ElementType, Profile


def test_profile_tree_shows_types_flags_occurs_and_escaped_samples() -> None:
    profile = Profile(
        "p",
        (
            Element("id", ElementType.INTEGER, mandatory=True, sample="7"),
            Element("when", ElementType.DATE, mask="%Y-%m-%d", sample="2026-01-02"),
            Element(
                "lines",
                ElementType.RECORD,
                max_occurs=None,
                children=(Element("note", sample="<b>x</b>" + "y" * 60),),
            ),
        ),
        format="json",
    )
    html = profile_tree_html(profile)
    assert "(json, 4 elements)" in html
    assert "<td class='t'>date (%Y-%m-%d)</td>" in html
    assert "<b>lines</b>[]" in html and "▾" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html  # samples are escaped
    assert "…" in html  # long samples are cut
    assert html.count("✔ mandatory") == 1
    assert "padding-left:1.9em" in html  # the child is indented under its record


def test_occurs_reads_like_a_schema() -> None:
    assert occurs(Element("a", mandatory=True)) == "1"
    assert occurs(Element("a")) == "0..1"
    assert occurs(Element("a", min_occurs=1, max_occurs=None)) == "1..*"


def test_components_table_lists_references_and_users(example_ws: Workspace) -> None:
    found = {(c.kind, c.name): c for c in workspace_components(example_ws)}
    assert "map:order_to_invoice" in found[("xref", "countries")].used_by
    assert "profile:orders" in found[("map", "order_to_invoice")].references
    html = components_html(list(found.values()))
    assert "<b>order_to_invoice</b>" in html
    assert components_html([]).endswith("holds no components yet.</div>")


def test_a_broken_component_file_is_listed_with_its_problem(example_ws: Workspace) -> None:
    (example_ws.components_dir / "maps" / "broken.yaml").write_text("kind: map\n", encoding="utf-8")
    (broken,) = [c for c in workspace_components(example_ws, kind="map") if c.name == "broken"]
    assert broken.problem == "not a component file (no 'body')"
