"""Trading partner components: who a partner is in the envelopes, and how we deal with them.

A partner is ``components/partners/<name>.yaml`` (a component file; the body's
schema is in the README's B2B section): their identities in the envelopes (ISA
qualifier and id, GS id, UNB id), ours, the standard and version, outbound
delimiters, test or production, the document types exchanged, what
acknowledgement they send and how long to wait for it, the validation policy,
duplicate window, and how to reach them (a connection component's name, or AS2
settings). An environment changes what differs between dev and prod in
``extensions/<env>.toml`` under ``[partners.<name>]`` (tables merge key by key),
so a test partner id or AS2 URL never needs a second component.

Every problem is a ``ComponentError`` naming the file (and the environment file
for overrides) and the field, so a typo is fixed at once.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from atomnb.components.environments import DEFAULT_ENVIRONMENT, literal_secrets
from atomnb.components.files import ComponentFile, component_path, load_component, save_component
from atomnb.components.workspace import Workspace
from atomnb.errors import ComponentError, ConfigError

__all__ = [
    "ACK_KINDS",
    "COMPONENT_KIND",
    "As2Settings",
    "Identity",
    "Partner",
    "list_partners",
    "load_partner",
    "parse_duration",
    "parse_partner",
    "save_partner",
]

COMPONENT_KIND = "partner"
ACK_KINDS = ("997", "999", "TA1", "CONTRL", "none")
_ENVIRONMENT_ENV = "ATOMNB_ENVIRONMENT"  # the executor sets it in a process's kernel
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}

Standard = Literal["x12", "edifact"]
Policy = Literal["reject", "accept_with_errors"]


@dataclass(frozen=True)
class Identity:
    """One side's ids in the envelopes (ISA06/08 with qualifier, GS02/03, UNB 0004/0010)."""

    isa_qualifier: str = "ZZ"
    isa_id: str = ""
    gs_id: str = ""
    unb_id: str = ""
    unb_qualifier: str = ""


@dataclass(frozen=True)
class As2Settings:
    """How to exchange AS2 messages with the partner (read by ``atomnb.b2b.as2``)."""

    as2_id: str
    our_as2_id: str
    url: str | None = None
    certificates: dict[str, str] = field(default_factory=dict)
    mdn: Literal["sync", "async", "none"] = "sync"
    mdn_url: str | None = None
    signed_mdn: bool = True
    sign: str | None = "sha256"
    encrypt: str | None = "aes_256_cbc"
    compress: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Partner:
    """A trading partner as configured, environment overrides applied."""

    name: str
    standard: Standard
    version: str
    identity: Identity
    us: Identity
    usage: Literal["T", "P"] = "P"
    delimiters: dict[str, str] = field(default_factory=dict)
    documents: tuple[tuple[str, str], ...] = ()  # (type, direction)
    ack_expect: str = "none"  # what they send for our interchanges
    ack_send: str = "none"  # what we send for theirs
    ta1: bool = False
    ack_within: timedelta = timedelta(hours=24)
    ack_notify: dict[str, Any] = field(default_factory=dict)  # {"webhook": URL}
    validation: Policy = "reject"
    duplicate_window: timedelta = timedelta(days=30)
    transport: dict[str, Any] = field(default_factory=dict)
    as2: As2Settings | None = None
    source: str = ""

    @property
    def sender_key(self) -> str:
        """Who they are as a sender (the key of control numbers seen from them)."""
        if self.standard == "x12":
            return f"{self.identity.isa_qualifier}:{self.identity.isa_id}"
        return f"{self.identity.unb_qualifier}:{self.identity.unb_id}"

    def exchanges(self, doc_type: str, direction: str) -> bool:
        """Whether ``doc_type`` is listed for ``direction`` (no list: everything)."""
        if not self.documents:
            return True
        return (doc_type, direction) in self.documents


def _workspace(workspace: Workspace | str | Path | None) -> Workspace:
    if isinstance(workspace, Workspace):
        return workspace
    return Workspace.find(workspace or os.environ.get("ATOMNB_WORKSPACE") or None)


def load_partner(
    name: str, workspace: Workspace | str | Path | None = None, env: str | None = None
) -> Partner:
    """The partner ``name`` with environment ``env``'s ``[partners.<name>]`` overrides."""
    ws = _workspace(workspace)
    component = load_component(ws.components_dir, COMPONENT_KIND, name)
    where = str(component_path(ws.components_dir, COMPONENT_KIND, name))
    body = dict(component.body)
    env = env or os.environ.get(_ENVIRONMENT_ENV) or DEFAULT_ENVIRONMENT
    overrides, env_file = _overrides(ws.extensions_dir, env, name)
    if overrides:
        body = _merge(body, overrides)
        where = f"{where} (with overrides from {env_file})"
    return parse_partner(name, body, where)


def list_partners(workspace: Workspace | str | Path | None = None) -> list[str]:
    """Names of the saved partner components, sorted."""
    folder = _workspace(workspace).components_dir / f"{COMPONENT_KIND}s"
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def save_partner(
    name: str, body: Mapping[str, Any], workspace: Workspace | str | Path | None = None
) -> Path:
    """Check and write ``components/partners/<name>.yaml`` (version bumped on change)."""
    ws = _workspace(workspace)
    path = component_path(ws.components_dir, COMPONENT_KIND, name)
    parse_partner(name, body, str(path))  # refuse what could not be loaded back
    save_component(ws.components_dir, ComponentFile(COMPONENT_KIND, name, dict(body)))
    return path


def _overrides(extensions: Path, env: str, name: str) -> tuple[dict[str, Any], Path | None]:
    path = extensions / f"{env}.toml"
    if env == DEFAULT_ENVIRONMENT and not path.exists():
        return {}, None
    if not path.exists():
        raise ConfigError(f"unknown environment {env!r}: {path} does not exist")
    try:
        body = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", where=str(path)) from None
    partners = body.get("partners", {})
    if not isinstance(partners, dict) or not isinstance(partners.get(name, {}), dict):
        raise ComponentError(f"[partners.{name}] must be a table of settings", where=str(path))
    return dict(partners.get(name, {})), path


def _merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def parse_duration(value: object, field_name: str, where: str) -> timedelta:
    """``90`` (seconds), ``"15m"``, ``"24h"`` or ``"30d"`` as a timedelta."""
    if isinstance(value, bool):
        value = None
    if isinstance(value, (int, float)):
        return timedelta(seconds=float(value))
    match = _DURATION.match(str(value)) if isinstance(value, str) else None
    if match is None:
        raise ComponentError(
            f"{field_name}: {value!r} is not a duration (a number of seconds, or 15m, 24h, 30d)",
            where=where,
        )
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


class _Reader:
    """Typed access to the body; every error names the file and the dotted field."""

    def __init__(self, body: Mapping[str, Any], where: str) -> None:
        self.body = body
        self.where = where

    def fail(self, path: str, message: str) -> ComponentError:
        return ComponentError(f"{path}: {message}", where=self.where)

    def get(self, path: str, default: Any = None) -> Any:
        node: Any = self.body
        for part in path.split("."):
            if not isinstance(node, Mapping):
                raise self.fail(path, "the enclosing value must be a table")
            if part not in node:
                return default
            node = node[part]
        return node

    def text(self, path: str, default: str | None = None, *, required: bool = False) -> str:
        value = self.get(path, default)
        if value is None:
            if required:
                raise self.fail(path, "is required")
            return ""
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise self.fail(path, f"must be text, not {value!r}")
        return str(value)

    def choice(self, path: str, choices: tuple[str, ...], default: str) -> str:
        value = self.text(path, default)
        if value not in choices:
            raise self.fail(path, f"{value!r} is not one of {', '.join(choices)}")
        return value

    def table(self, path: str) -> dict[str, Any]:
        value = self.get(path, {})
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(path, f"must be a table, not {value!r}")
        return dict(value)

    def flag(self, path: str, default: bool) -> bool:
        value = self.get(path, default)
        if not isinstance(value, bool):
            raise self.fail(path, f"must be true or false, not {value!r}")
        return value


def parse_partner(name: str, body: Mapping[str, Any], where: str) -> Partner:
    """Check a partner body and build the ``Partner``; errors name ``where`` and the field."""
    r = _Reader(body, where)
    bad = literal_secrets(dict(body))
    if bad:
        raise ComponentError(
            f"{', '.join(bad)} must be a reference like 'env:VAR', 'file:/path' or "
            "'atom:NAME', not a value",
            where=where,
            hint="secret values never go into component files: they are committed",
        )
    known = {
        "standard", "version", "usage", "identity", "us", "delimiters", "documents",
        "acknowledgement", "validation", "duplicates", "transport", "as2", "description",
    }  # fmt: skip
    unknown = sorted(set(body) - known)
    if unknown:
        raise ComponentError(
            f"unknown field(s) {', '.join(unknown)}", where=where, hint=f"known: {sorted(known)}"
        )
    standard = r.choice("standard", ("x12", "edifact"), "")
    version = r.text("version", "004010" if standard == "x12" else "UNOC:3")
    identity, us = _identity(r, "identity", standard), _identity(r, "us", standard)
    delimiters = {str(k): str(v) for k, v in r.table("delimiters").items()}
    for key, value in delimiters.items():
        if key not in ("element", "component", "segment", "repetition", "line_ending"):
            raise r.fail(f"delimiters.{key}", "is not a delimiter name")
        if key != "line_ending" and len(value) != 1:
            raise r.fail(f"delimiters.{key}", f"must be one character, not {value!r}")
    documents = _documents(r)
    expect = r.choice("acknowledgement.expect", ACK_KINDS, "none")
    send = r.choice("acknowledgement.send", ACK_KINDS, "none")
    for path, kind in (("acknowledgement.expect", expect), ("acknowledgement.send", send)):
        if kind != "none" and (standard == "edifact") != (kind == "CONTRL"):
            raise r.fail(path, f"{kind} is not an acknowledgement of {standard}")
    within = parse_duration(r.get("acknowledgement.within", "24h"), "acknowledgement.within", where)
    window = parse_duration(r.get("duplicates.window", "30d"), "duplicates.window", where)
    transport = r.table("transport")
    how = transport.get("kind")
    if how is not None and how not in ("as2", "sftp", "http"):
        raise r.fail("transport.kind", f"{how!r} is not one of as2, sftp, http")
    if how in ("sftp", "http") and not isinstance(transport.get("connection"), str):
        raise r.fail("transport.connection", f"names the {how} connection component: required")
    as2 = _as2(r) if r.get("as2") is not None else None
    if how == "as2" and as2 is None:
        raise r.fail("as2", "transport.kind is as2 but there is no as2 table")
    return Partner(
        name=name,
        standard="x12" if standard == "x12" else "edifact",
        version=version,
        identity=identity,
        us=us,
        usage="T" if r.choice("usage", ("T", "P"), "P") == "T" else "P",
        delimiters=delimiters,
        documents=documents,
        ack_expect=expect,
        ack_send=send,
        ta1=r.flag("acknowledgement.ta1", False),
        ack_notify=_notify(r),
        ack_within=within,
        validation="accept_with_errors"
        if r.choice("validation", ("reject", "accept_with_errors"), "reject") != "reject"
        else "reject",
        duplicate_window=window,
        transport=transport,
        as2=as2,
        source=where,
    )


def _notify(r: _Reader) -> dict[str, Any]:
    notify = r.table("acknowledgement.notify")
    for key in notify:
        if key not in ("webhook",):
            raise r.fail(f"acknowledgement.notify.{key}", "is not a notification setting (webhook)")
    if "webhook" in notify and not str(notify["webhook"]).startswith(("http://", "https://")):
        raise r.fail("acknowledgement.notify.webhook", "must be an http(s) URL")
    return notify


def _identity(r: _Reader, path: str, standard: str) -> Identity:
    r.table(path)
    ident = Identity(
        isa_qualifier=r.text(f"{path}.isa_qualifier", "ZZ"),
        isa_id=r.text(f"{path}.isa_id"),
        gs_id=r.text(f"{path}.gs_id"),
        unb_id=r.text(f"{path}.unb_id"),
        unb_qualifier=r.text(f"{path}.unb_qualifier"),
    )
    if standard == "x12":
        if not ident.isa_id:
            raise r.fail(f"{path}.isa_id", "is required for an X12 partner")
        if len(ident.isa_id) > 15:
            raise r.fail(f"{path}.isa_id", f"{ident.isa_id!r} is longer than 15 characters")
        if len(ident.isa_qualifier) != 2:
            raise r.fail(f"{path}.isa_qualifier", "must be two characters (ZZ, 01, 12, ...)")
        if not ident.gs_id:
            ident = Identity(ident.isa_qualifier, ident.isa_id, ident.isa_id, ident.unb_id)
    elif not ident.unb_id:
        raise r.fail(f"{path}.unb_id", "is required for an EDIFACT partner")
    return ident


def _documents(r: _Reader) -> tuple[tuple[str, str], ...]:
    value = r.get("documents", [])
    if not isinstance(value, list):
        raise r.fail("documents", "must be a list of {type, direction}")
    found: list[tuple[str, str]] = []
    for index, item in enumerate(value):
        path = f"documents[{index}]"
        if not isinstance(item, Mapping) or not item.get("type"):
            raise r.fail(path, "must be a table with 'type' (850, ORDERS, ...) and 'direction'")
        direction = item.get("direction", "inbound")
        if direction not in ("inbound", "outbound", "both"):
            raise r.fail(f"{path}.direction", f"{direction!r} is not inbound, outbound or both")
        for way in ("inbound", "outbound") if direction == "both" else (direction,):
            found.append((str(item["type"]), way))
    return tuple(found)


def _as2(r: _Reader) -> As2Settings:
    table = r.table("as2")
    fixed = {
        "as2_id", "our_as2_id", "url", "certificates", "mdn", "mdn_url", "signed_mdn",
        "sign", "encrypt", "compress",
    }  # fmt: skip
    certificates = r.table("as2.certificates")
    for key, value in certificates.items():
        if not isinstance(value, str):
            raise r.fail(f"as2.certificates.{key}", "must name a certificate component")
    mdn = r.choice("as2.mdn", ("sync", "async", "none"), "sync")
    sign = r.get("as2.sign", "sha256")
    encrypt = r.get("as2.encrypt", "aes_256_cbc")
    return As2Settings(
        as2_id=r.text("as2.as2_id", required=True),
        our_as2_id=r.text("as2.our_as2_id", required=True),
        url=r.text("as2.url") or None,
        certificates={str(k): str(v) for k, v in certificates.items()},
        mdn="sync" if mdn == "sync" else "async" if mdn == "async" else "none",
        mdn_url=r.text("as2.mdn_url") or None,
        signed_mdn=r.flag("as2.signed_mdn", True),
        sign=None if sign in (None, "", "none") else str(sign),
        encrypt=None if encrypt in (None, "", "none") else str(encrypt),
        compress=r.flag("as2.compress", False),
        extra={k: v for k, v in table.items() if k not in fixed},
    )
