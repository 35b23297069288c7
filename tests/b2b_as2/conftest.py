"""Two workspaces that trade over AS2 ("a" sends to partner "bee", "b" knows it as "aye")."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from atomnb.components import Workspace
from tests.b2b_as2.helpers import add_as2_partner, add_own_certificate, add_their_certificate


@dataclass
class Pair:
    a: Workspace
    b: Workspace
    keys: Path

    def partner_a(
        self, name: str = "bee", url: str | None = "http://b/as2/aye", **as2: Any
    ) -> None:
        add_as2_partner(
            self.a,
            name,
            their_id="BEE",
            our_id="AYE",
            url=url,
            ours="a_key",
            theirs="b_cert",
            **as2,
        )

    def partner_b(self, name: str = "aye", **as2: Any) -> None:
        add_as2_partner(
            self.b,
            name,
            their_id="AYE",
            our_id="BEE",
            url=None,
            ours="b_key",
            theirs="a_cert",
            **as2,
        )


def make_pair(root: Path, **a_options: Any) -> Pair:
    """Workspaces ``a`` and ``b``, each with its own key pair and the other's certificate."""
    a = Workspace.init(root / "a", name="a")
    b = Workspace.init(root / "b", name="b")
    keys = root / "keys"
    add_own_certificate(a, "a_key", keys, **a_options)
    add_own_certificate(b, "b_key", keys)
    add_their_certificate(a, "b_cert", (b.components_dir / "certificates/b_key.pem").read_bytes())
    add_their_certificate(b, "a_cert", (a.components_dir / "certificates/a_key.pem").read_bytes())
    return Pair(a, b, keys)


@pytest.fixture
def pair(tmp_path: Path) -> Pair:
    made = make_pair(tmp_path)
    made.partner_a()
    made.partner_b(process="inbound")
    return made
