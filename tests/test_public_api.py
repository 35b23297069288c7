"""The public namespace is exactly the curated contract, and importing it stays cheap."""

from __future__ import annotations

import subprocess
import sys
from types import ModuleType

import atomnb


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert atomnb.__all__ == sorted(atomnb.__all__)
    # the literal __all__ (which tools read) and the lazy table must not drift apart
    assert set(atomnb._LAZY) <= set(atomnb.__all__)
    for name in atomnb.__all__:
        assert getattr(atomnb, name) is not None, name


def test_public_names_are_only_the_contract() -> None:
    public = {
        n
        for n in dir(atomnb)
        if not n.startswith("_") and not isinstance(getattr(atomnb, n), ModuleType)  # sub-packages
    }
    # lazily loaded names appear once touched; nothing public exists outside __all__
    assert public - set(atomnb.__all__) == set()


def test_unknown_attribute_raises_attribute_error() -> None:
    try:
        atomnb.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_import_is_cheap_and_pulls_in_no_runner_or_ui() -> None:
    code = (
        "import sys, atomnb as ab\n"
        "heavy = {'papermill', 'nbclient', 'jupyter_client', 'IPython', 'sqlalchemy',"
        " 'pyarrow', 'click'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
        "ab.read(b'[{\"a\": 1}]', format='json')\n"
        "print(sorted({'papermill', 'nbclient', 'IPython', 'click'} & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    first, second = out.stdout.splitlines()
    assert first == "[]"
    assert second == "[]"
