"""Request and response bodies of HTTP operations: formats and profiles.

Request bodies are written with ``atomnb.formats`` writers (JSON, XML, CSV);
response bodies are read with its readers, the format chosen explicitly or by
the response's ``Content-Type``. Profiles are checked on both sides: documents
that do not fit the request profile become rejections *instead of* requests,
and response documents that do not fit the response profile become rejections
with the rule they broke, while the others are typed by the profile.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from atomnb.documents import Documents, Rejection
from atomnb.errors import AtomnbError, ConfigError, DocumentError, FatalConnectorError
from atomnb.formats import read, write
from atomnb.profiles import Profile, apply_profile, load_profile, validate

__all__ = [
    "BODY_FORMATS",
    "BodyFormat",
    "ProfileRef",
    "ResponseFormatError",
    "check_request",
    "conform_response",
    "decode",
    "encode",
    "format_for",
    "profile_from_dict",
    "profile_to_dict",
    "resolve_profile",
]

BodyFormat = Literal["json", "xml", "csv"]
BODY_FORMATS: tuple[BodyFormat, ...] = ("json", "xml", "csv")
CONTENT_TYPES: dict[str, str] = {
    "json": "application/json",
    "xml": "application/xml",
    "csv": "text/csv",
}
#: A profile, or the name of a profile component in the workspace.
ProfileRef = Profile | str


class ResponseFormatError(FatalConnectorError):
    """The response body does not read as the format it claims (or was told) to be."""


def format_for(content_type: str | None) -> BodyFormat | None:
    """The body format a ``Content-Type`` names, or None when it names none we read."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media in ("application/json", "text/json", "application/x-ndjson", "application/jsonl"):
        return "json"
    if media.endswith("+json"):
        return "json"
    if media in ("application/xml", "text/xml") or media.endswith("+xml"):
        return "xml"
    if media in ("text/csv", "application/csv"):
        return "csv"
    return None


def encode(
    documents: Documents, fmt: BodyFormat, options: Mapping[str, Any], *, single: bool
) -> tuple[bytes, str]:
    """The body and its content type: one document (``single``) or the batch."""
    opts = dict(options)
    if fmt == "json":
        opts.setdefault("layout", "single" if single else "array")
    try:
        data = write(documents, format=fmt, **opts)
    except AtomnbError as exc:
        raise DocumentError(
            f"cannot write the request body as {fmt}: {exc.message}", rule=f"format.{fmt}"
        ) from None
    assert data is not None  # no destination: the bytes come back
    return data, CONTENT_TYPES[fmt]


def decode(
    raw: bytes,
    fmt: BodyFormat,
    options: Mapping[str, Any],
    *,
    records: str | None,
    where: str,
) -> Documents:
    """Documents read from a response body (``records``: the XML record path)."""
    opts = dict(options)
    if fmt == "xml" and records and "record_path" not in opts:
        opts["record_path"] = records
    try:
        return read(raw, format=fmt, **opts)
    except AtomnbError as exc:
        raise ResponseFormatError(
            f"{where}: the response is not valid {fmt}: {exc.message}",
            hint="set response_format= (json, xml, csv) if the Content-Type is wrong",
        ) from None


def resolve_profile(profile: ProfileRef | None) -> Profile | None:
    """The profile itself, loading a component by name from the workspace."""
    if profile is None or isinstance(profile, Profile):
        return profile
    return load_profile(profile)


def _grouped(report_errors: Sequence[DocumentError]) -> dict[int, list[DocumentError]]:
    grouped: dict[int, list[DocumentError]] = {}
    for error in report_errors:
        grouped.setdefault(int(error.document or 0), []).append(error)
    return grouped


def _rejections(
    documents: Documents,
    profile: Profile,
    where: str,
    positions: Sequence[int],
) -> tuple[Documents, list[int], list[Rejection]]:
    """Valid documents (with their original positions) and one rejection per invalid one."""
    report = validate(documents, profile)
    if report.ok:
        return documents, list(positions), []
    by_document = _grouped(report.errors)
    records = documents.to_pylist()
    rejections = []
    for index in report.invalid_indices:
        errors = by_document[index]
        rejections.append(
            Rejection(
                message="; ".join(str(e) for e in errors),
                where=where,
                rule=f"profile.{errors[0].rule}",
                index=positions[index],
                raw=json.dumps(records[index], default=str, ensure_ascii=False).encode("utf-8"),
            )
        )
    invalid = set(report.invalid_indices)
    kept = [positions[i] for i in range(len(documents)) if i not in invalid]
    return report.valid, kept, rejections


def check_request(
    documents: Documents, profile: Profile, where: str
) -> tuple[Documents, list[int], list[Rejection]]:
    """Documents that fit the request profile, their original positions, and the refused."""
    label = f"{where} request (profile {profile.name})"
    return _rejections(documents, profile, label, list(range(len(documents))))


def conform_response(documents: Documents, profile: Profile, where: str) -> Documents:
    """Response documents typed by the profile; those that do not fit become rejections."""
    label = f"{where} response (profile {profile.name})"
    valid, _, refused = _rejections(documents, profile, label, list(range(len(documents))))
    typed = apply_profile(valid, profile, source=f"{where} response")
    return typed.with_rejections(refused)  # the batch's own rejections travel along already


def profile_to_dict(profile: ProfileRef | None) -> str | dict[str, Any] | None:
    """A component name stays a name; a profile given inline is saved inline."""
    if profile is None or isinstance(profile, str):
        return profile
    return {"name": profile.name, **profile.to_body()}


def profile_from_dict(body: str | Mapping[str, Any] | None) -> ProfileRef | None:
    if body is None or isinstance(body, str):
        return body
    if not isinstance(body, Mapping) or "name" not in body:
        raise ConfigError("an inline profile needs a name and its elements")
    values = dict(body)
    return Profile.from_body(str(values.pop("name")), values)
