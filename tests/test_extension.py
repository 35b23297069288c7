"""``%load_ext atomnb`` in a real IPython shell: every shape shows its summary (test mode)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from atomnb.process.run import new_run


@pytest.fixture
def shell() -> Iterator[Any]:
    new_run()
    ip = InteractiveShell.instance()
    shown: list[str] = []

    def capture(data: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        shown.append(data.get("text/html", ""))

    original = ip.display_pub.publish
    ip.display_pub.publish = capture  # record what the notebook would show
    ip.shown = shown
    yield ip
    ip.display_pub.publish = original
    ip.run_line_magic("unload_ext", "atomnb")
    InteractiveShell.clear_instance()


def test_each_shape_shows_counts_and_a_peek(shell: Any) -> None:
    shell.run_line_magic("load_ext", "atomnb")
    result = shell.run_cell(
        "import atomnb as ab\n"
        "docs = ab.Documents.from_records([{'id': 'A', 'total': 5}, {'id': 'B', 'total': 5000}])\n"
        "big, small = ab.decision(docs, 'total > 1000', name='big orders')\n"
    )
    assert result.success, result.error_in_exec
    (summary,) = shell.shown
    assert "<code>decision</code> <b>big orders</b>: 2 in → true: 1, false: 1" in summary
    assert "<details><summary>true</summary>" in summary and ">B<" in summary


def test_unloading_stops_the_summaries(shell: Any) -> None:
    shell.run_line_magic("load_ext", "atomnb")
    shell.run_line_magic("unload_ext", "atomnb")
    shell.run_cell("import atomnb as ab\nab.notify('hello')\n")
    assert shell.shown == []


def test_loading_registers_the_atomnb_magics_and_unloading_removes_them(shell: Any) -> None:
    shell.run_line_magic("load_ext", "atomnb")
    magics = shell.magics_manager.magics
    assert "atomnb" in magics["line"] and "atomnb" in magics["cell"]
    shell.run_line_magic("unload_ext", "atomnb")
    assert "atomnb" not in magics["line"] and "atomnb" not in magics["cell"]


def test_importing_atomnb_loads_no_widget_stack() -> None:
    import subprocess
    import sys

    heavy = "{'anywidget', 'ipywidgets', 'IPython'}"
    code = f"import atomnb, sys; atomnb.Map; print(sorted({heavy} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
