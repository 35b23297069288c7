"""``%atomnb`` magics in a real IPython shell: help, profiles, maps, components, connections."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from atomnb.components import Workspace
from atomnb.maps import Map
from atomnb.nb import connection_cell
from atomnb.nb.widgets.mapper import MapperWidget
from atomnb.profiles import Profile


def run(shell: Any, source: str) -> Any:
    result = shell.run_cell(source)
    return result


@pytest.mark.parametrize(
    "line",
    [
        "--help",
        "profile infer --help",
        "profile show --help",
        "profile save --help",
        "map open --help",
        "map apply --help",
        "components --help",
        "dashboard --help",
        "connection --help",
    ],
)
def test_every_sub_command_has_help(
    shell: Any, line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert shell.run_line_magic("atomnb", line) is None
    printed = capsys.readouterr().out
    assert printed.startswith("usage: %atomnb")


def test_a_wrong_sub_command_is_one_usage_error(shell: Any) -> None:
    result = run(shell, "%atomnb profle infer x")
    assert not result.success
    assert type(result.error_in_exec).__name__ == "UsageError"
    assert "invalid choice: 'profle'" in str(result.error_in_exec)


def test_profile_infer_from_a_file_shows_the_tree_and_saves(
    shell: Any, example_ws: Workspace
) -> None:
    result = run(
        shell, "%atomnb profile infer notebooks/data/orders.jsonl --name shop_orders --save --as p"
    )
    assert result.success, result.error_in_exec
    profile = shell.user_ns["p"]
    assert isinstance(profile, Profile) and profile.format == "json"
    (html,) = shell.shown
    assert "<b>orderId</b>" in html and "✔ mandatory" in html and "SO-00001" in html
    assert "data-path='lines.sku'" in html  # nested repeating elements are rows of the tree
    saved = example_ws.components_dir / "profiles" / "shop_orders.yaml"
    assert saved.exists() and str(saved) in html


def test_profile_infer_from_a_dataframe_variable(shell: Any) -> None:
    run(shell, "import pandas as pd\nframe = pd.DataFrame({'sku': ['A', 'B'], 'qty': [1, 2]})")
    result = run(shell, "%atomnb profile infer frame --name stock --as stock")
    assert result.success, result.error_in_exec
    assert [e.name for e in shell.user_ns["stock"].elements] == ["sku", "qty"]


def test_profile_infer_of_a_missing_sample_says_what_to_give(shell: Any) -> None:
    result = run(shell, "%atomnb profile infer nowhere.csv")
    assert not result.success
    assert "no sample file nowhere.csv" in str(result.error_in_exec)
    assert "hint:" in str(result.error_in_exec)


def test_profile_show_by_component_name(shell: Any) -> None:
    assert run(shell, "%atomnb profile show invoice").success
    assert "<b>invoice_id</b>" in shell.shown[-1]


def test_map_open_existing_map_and_apply(shell: Any) -> None:
    result = run(
        shell, "%atomnb map open order_to_invoice --sample notebooks/data/orders.jsonl --as m"
    )
    assert result.success, result.error_in_exec
    widget = shell.user_ns["m"]
    assert isinstance(widget, MapperWidget) and isinstance(widget.map, Map)
    assert widget.preview["documents"] == 20
    result = run(shell, "%atomnb map apply order_to_invoice notebooks/data/orders.jsonl --as out")
    assert result.success, result.error_in_exec
    assert len(shell.user_ns["out"]) == 39
    assert "1 document(s) failed" in shell.shown[-1] and "order_date" in shell.shown[-1]


def test_map_open_unknown_map_hints_at_a_new_one(shell: Any) -> None:
    result = run(shell, "%atomnb map open not_there")
    assert not result.success
    assert "give --source and --target" in str(result.error_in_exec)


def test_map_open_new_map_between_two_profiles(shell: Any) -> None:
    result = run(shell, "%atomnb map open fresh --source orders --target invoice --as m")
    assert result.success, result.error_in_exec
    widget = shell.user_ns["m"]
    assert widget.map.name == "fresh" and widget.map.rules == ()
    assert widget.unmapped == ["invoice_id", "order_date"]


def test_components_lists_where_used(shell: Any) -> None:
    assert run(shell, "%atomnb components --kind profile").success
    html = shell.shown[-1]
    assert "<b>orders</b>" in html and "map:order_to_invoice" in html
    assert "<td>map</td>" not in html


def test_connection_cell_saves_references_and_tests_ok(shell: Any, example_ws: Workspace) -> None:
    body = "kind: database\nurl: sqlite:///shop.db\n"
    assert run(shell, f"%%atomnb connection shop\n{body}").success
    saved = yaml.safe_load((example_ws.components_dir / "connections" / "shop.yaml").read_text())
    assert saved["body"] == {"kind": "database", "settings": {"url": "sqlite:///shop.db"}}
    assert run(shell, "%atomnb connection test shop").success
    assert "<b style='color:#2e7d32'>ok</b>" in shell.shown[-1]
    assert run(shell, "%atomnb connection list").success
    assert "<b>shop</b>" in shell.shown[-1] and "sqlite:///shop.db" in shell.shown[-1]


def test_connection_test_failure_is_shown_not_raised(shell: Any) -> None:
    run(shell, "%%atomnb connection broken\nkind: database\nurl: nosuchdialect://x\n")
    assert run(shell, "%atomnb connection test broken").success
    assert "failed" in shell.shown[-1]


def test_a_literal_secret_in_the_cell_is_refused_and_not_saved(
    shell: Any, example_ws: Workspace
) -> None:
    result = run(
        shell, "%%atomnb connection db\nkind: database\nurl: sqlite:///x.db\npassword: hunter2\n"
    )
    assert not result.success
    message = str(result.error_in_exec)
    assert "password must be a reference" in message and "hunter2" not in message
    assert not (example_ws.components_dir / "connections" / "db.yaml").exists()


def test_an_asked_secret_goes_to_the_kernel_environment_only(
    shell: Any, example_ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def password_field(prompt: str) -> str:  # what the user types into the masked field
        asked.append(prompt)
        return "s3cret-value"

    monkeypatch.setattr(connection_cell, "ASK", password_field)
    variable = connection_cell.secret_env_name("pg", "password")
    monkeypatch.delenv(variable, raising=False)
    result = run(
        shell, "%%atomnb connection pg\nkind: database\nurl: sqlite:///x.db\npassword: ask\n"
    )
    assert result.success, result.error_in_exec
    assert asked == ["pg password: "]
    text = (example_ws.components_dir / "connections" / "pg.yaml").read_text()
    assert "s3cret-value" not in text and f"env:{variable}" in text
    assert all("s3cret-value" not in html for html in shell.shown)
    import os

    assert os.environ[variable] == "s3cret-value"
    monkeypatch.delenv(variable)


def test_asking_without_an_input_field_says_what_to_do(
    shell: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_stdin(prompt: str) -> str:
        raise EOFError

    monkeypatch.setattr(connection_cell, "ASK", no_stdin)
    result = run(
        shell, "%%atomnb connection pg\nkind: database\nurl: sqlite:///x.db\npassword: ask\n"
    )
    assert not result.success
    assert "ATOMNB_SECRET_PG_PASSWORD" in str(result.error_in_exec)


def test_connection_edit_fills_the_next_cell(shell: Any) -> None:
    run(shell, "%%atomnb connection shop\nkind: database\nurl: sqlite:///shop.db\n")
    filled: list[str] = []
    shell.set_next_input = lambda text, replace=False: filled.append(text)
    assert run(shell, "%atomnb connection edit shop").success
    assert filled == ["%%atomnb connection shop\nkind: database\nurl: sqlite:///shop.db\n"]


def test_a_cell_without_kind_is_explained(shell: Any) -> None:
    result = run(shell, "%%atomnb connection shop\nurl: sqlite:///shop.db\n")
    assert "needs a kind" in str(result.error_in_exec)


def test_dashboard_magic_returns_the_widget(shell: Any) -> None:
    result = shell.run_cell("%atomnb dashboard --limit 5")
    assert result.success, result.error_in_exec
    assert type(result.result).__name__ == "ExecutionsDashboard"
