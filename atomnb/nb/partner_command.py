"""``%atomnb partner``: create a trading partner from arguments (or a cell), show and list them.

::

    %atomnb partner create acme --standard x12 --their-id ACME --our-id MYCO --ack 997 --test
    %atomnb partner acme                 (show one, with the environment's overrides: --env)
    %atomnb partner list
    %%atomnb partner acme                (cell body: the partner's YAML body, as in the file)

Everything lands in ``components/partners/<name>.yaml`` through
``atomnb.components.partners.save_partner``, which checks the body first, so a
partner that could not be loaded back is never written.
"""

from __future__ import annotations

import argparse
import html
from collections.abc import Sequence
from typing import Any, NoReturn

import yaml

from atomnb.components.partners import Partner, list_partners, load_partner, save_partner
from atomnb.errors import ConfigError

__all__ = ["add_partner_parser", "body_from_arguments", "run"]

USAGE = (
    "usage: %atomnb partner NAME [--env ENV] | %atomnb partner list | "
    "%atomnb partner create NAME --standard x12|edifact --their-id ID --our-id ID [options] | "
    "%%atomnb partner NAME (the body in the cell)"
)


def add_partner_parser(groups: Any) -> None:
    """Declare ``partner`` on the ``%atomnb`` parser (its words are parsed here)."""
    sub = groups.add_parser("partner", help="create, show and list trading partners")
    sub.add_argument("words", nargs=argparse.REMAINDER, metavar="NAME | list | create NAME ...")


class _Parser(argparse.ArgumentParser):
    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise ConfigError(message.strip() if message else self.format_help())

    def error(self, message: str) -> NoReturn:
        raise ConfigError(f"{message}\n{self.format_usage().strip()}")


def _create_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="%atomnb partner create", add_help=True)
    p.add_argument("name")
    p.add_argument("--standard", choices=("x12", "edifact"), required=True)
    p.add_argument("--version", help="X12 GS08 (004010) or EDIFACT syntax (UNOC:3)")
    p.add_argument("--their-id", required=True, help="their ISA06 / UNB sender id")
    p.add_argument("--their-qualifier", help="ISA05 (ZZ) or UNB qualifier")
    p.add_argument("--their-gs-id", help="their GS02 when it differs from the ISA id")
    p.add_argument("--our-id", required=True, help="our ISA08 / UNB recipient id")
    p.add_argument("--our-qualifier", help="ISA07 (ZZ) or UNB qualifier")
    p.add_argument("--ack", help="what we send them: 997, 999, CONTRL or none")
    p.add_argument("--expect", help="what they send us: 997, 999, TA1, CONTRL or none")
    p.add_argument("--within", help="overdue after (24h, 30m, 2d)")
    p.add_argument("--ta1", action="store_true", help="also send TA1 acknowledgements")
    p.add_argument("--validation", choices=("reject", "accept_with_errors"))
    p.add_argument("--window", help="duplicate window (30d)")
    p.add_argument("--test", action="store_true", help="test indicator (ISA15 = T)")
    p.add_argument("--receives", nargs="*", default=[], help="document types we send them")
    p.add_argument("--sends", nargs="*", default=[], help="document types they send us")
    p.add_argument("--transport", choices=("as2", "sftp", "http"))
    p.add_argument("--connection", help="the connection component for sftp/http")
    return p


def body_from_arguments(words: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """(name, partner body) from ``create`` arguments."""
    a = _create_parser().parse_args(list(words))
    x12 = a.standard == "x12"
    id_key, qualifier_key = ("isa_id", "isa_qualifier") if x12 else ("unb_id", "unb_qualifier")
    default_qualifier = "ZZ" if x12 else ""
    identity = {id_key: a.their_id, qualifier_key: a.their_qualifier or default_qualifier}
    us = {id_key: a.our_id, qualifier_key: a.our_qualifier or default_qualifier}
    if a.their_gs_id:
        identity["gs_id"] = a.their_gs_id
    body: dict[str, Any] = {
        "standard": a.standard,
        "version": a.version or ("004010" if x12 else "UNOC:3"),
        "usage": "T" if a.test else "P",
        "identity": {k: v for k, v in identity.items() if v},
        "us": {k: v for k, v in us.items() if v},
        "documents": [{"type": t, "direction": "inbound"} for t in a.sends]
        + [{"type": t, "direction": "outbound"} for t in a.receives],
        "acknowledgement": {
            "send": a.ack or ("997" if x12 else "CONTRL"),
            "expect": a.expect or a.ack or ("997" if x12 else "CONTRL"),
            "within": a.within or "24h",
            "ta1": bool(a.ta1),
        },
        "validation": a.validation or "reject",
        "duplicates": {"window": a.window or "30d"},
    }
    if a.transport:
        body["transport"] = {"kind": a.transport}
        if a.connection:
            body["transport"]["connection"] = a.connection
    return a.name, body


def run(shell: Any, args: argparse.Namespace, cell: str | None) -> Partner | None:
    """Dispatch ``%atomnb partner …`` (see the module doc); returns the partner shown."""
    words = list(getattr(args, "words", []) or [])
    env = None
    if "--env" in words:
        at = words.index("--env")
        if at + 1 >= len(words):
            raise ConfigError("--env needs an environment name")
        env = words[at + 1]
        del words[at : at + 2]
    if cell is not None:
        if len(words) != 1:
            raise ConfigError(USAGE)
        try:
            body = yaml.safe_load(cell) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"the cell is not valid YAML: {exc}") from None
        if not isinstance(body, dict):
            raise ConfigError("the cell must hold the partner's settings (a YAML mapping)")
        save_partner(words[0], body)
        return _display(load_partner(words[0], env=env))
    if not words:
        raise ConfigError(USAGE)
    if words == ["list"]:
        _show(_list_html())
        return None
    if words[0] == "create":
        name, body = body_from_arguments(words[1:])
        save_partner(name, body)
        return _display(load_partner(name, env=env))
    if len(words) == 1:
        return _display(load_partner(words[0], env=env))
    raise ConfigError(USAGE)


def _display(partner: Partner) -> Partner:
    _show(partner_html(partner))
    return partner


def partner_html(p: Partner) -> str:
    """A partner as a small table (ids, acknowledgements, policy, transport)."""
    rows = [
        ("standard", f"{p.standard} {p.version} ({'test' if p.usage == 'T' else 'production'})"),
        ("their id", p.sender_key),
        ("our id", f"{p.us.isa_qualifier}:{p.us.isa_id}" if p.standard == "x12" else p.us.unb_id),
        ("documents", ", ".join(f"{t} {d}" for t, d in p.documents) or "any"),
        ("they acknowledge with", f"{p.ack_expect} within {p.ack_within}"),
        ("we acknowledge with", p.ack_send + (" + TA1" if p.ta1 else "")),
        ("validation", p.validation),
        ("duplicates remembered", str(p.duplicate_window)),
        ("transport", ", ".join(f"{k}={v}" for k, v in p.transport.items()) or "-"),
        ("file", p.source),
    ]
    cells = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
        for k, v in rows
    )
    return f"<div><b>partner {html.escape(p.name)}</b><table>{cells}</table></div>"


def _list_html() -> str:
    names = list_partners()
    if not names:
        return "<div>No partners yet: <code>%atomnb partner create NAME ...</code>.</div>"
    items = "".join(f"<li>{html.escape(n)}</li>" for n in names)
    return f"<div><b>partners</b><ul>{items}</ul></div>"


def _show(markup: str) -> None:
    from IPython.display import HTML, display

    display(HTML(markup))
