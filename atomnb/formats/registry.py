"""Which format reads which bytes: a lazy registry keyed by explicit names.

Formats load on first use (``name -> "module:Class"``), so importing atomnb
never imports lxml or an EDI parser, and a broken third-party plugin (entry
point group ``atomnb.formats``) only fails when it is asked for.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from atomnb.errors import FormatError
from atomnb.formats.base import Format, Source

__all__ = ["AMBIGUOUS_SUFFIXES", "FormatRegistry", "default_registry", "sniff"]

_BUILTIN: dict[str, str] = {
    "json": "atomnb.formats.json:JsonFormat",
    "csv": "atomnb.formats.csv:CsvFormat",
    "xml": "atomnb.formats.xml:XmlFormat",
    "fixed": "atomnb.formats.fixed:FixedWidthFormat",
    "x12": "atomnb.formats.x12:X12Format",
    "edifact": "atomnb.formats.edifact:EdifactFormat",
}
_ALIASES: dict[str, tuple[str, dict[str, str]]] = {
    "jsonl": ("json", {"layout": "lines"}),
    "ndjson": ("json", {"layout": "lines"}),
    "tsv": ("csv", {"delimiter": "\t"}),
    "psv": ("csv", {"delimiter": "|"}),
}
_EXTENSIONS: dict[str, str] = {
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "ndjson",
    ".csv": "csv",
    ".tsv": "tsv",
    ".psv": "psv",
    ".xml": "xml",
    ".x12": "x12",
    ".edifact": "edifact",
    ".edi": "edifact",
}
#: Extensions whose content decides the format (".edi" is X12 or EDIFACT; ".txt" anything).
AMBIGUOUS_SUFFIXES = frozenset({".edi", ".txt", ".dat", ""})
_SNIFFED = AMBIGUOUS_SUFFIXES
#: How content announces its format: first non-blank bytes.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"ISA", "x12"),
    (b"UNA", "edifact"),
    (b"UNB", "edifact"),
    (b"<", "xml"),
    (b"{", "json"),
    (b"[", "json"),
)


class FormatRegistry:
    """Format names to implementations, loaded on first use."""

    def __init__(self, targets: dict[str, str] | None = None) -> None:
        self._targets = dict(targets if targets is not None else _BUILTIN)
        self._loaded: dict[str, Format] = {}
        self._plugins_read = targets is not None

    def names(self) -> list[str]:
        self._read_plugins()
        return sorted([*self._targets, *_ALIASES])

    def resolve(self, name: str | None, source: Source) -> tuple[Format, dict[str, str]]:
        """The format for ``name`` (or the source's extension) and the options an alias implies."""
        if name is None:
            readable = source.data is not None or (source.path is not None and source.path.exists())
            sniffable = source.suffix in _SNIFFED and readable
            name = sniff(source) if sniffable else _EXTENSIONS.get(source.suffix)
            if name is None:
                raise FormatError(
                    f"cannot tell the format of {source.name} from its name",
                    hint=f"pass format= one of: {', '.join(self.names())}",
                )
        key = name.lower()
        base, implied = _ALIASES.get(key, (key, {}))
        return self.get(base), dict(implied)

    def get(self, name: str) -> Format:
        if name not in self._loaded:
            self._read_plugins()
            target = self._targets.get(name)
            if target is None:
                raise FormatError(
                    f"unknown format {name!r}", hint=f"known formats: {', '.join(self.names())}"
                )
            module_name, _, attribute = target.partition(":")
            self._loaded[name] = getattr(importlib.import_module(module_name), attribute)()
        return self._loaded[name]

    def _read_plugins(self) -> None:
        if self._plugins_read:
            return
        self._plugins_read = True
        for entry in entry_points(group="atomnb.formats"):
            self._targets.setdefault(entry.name, entry.value)


def sniff(source: Source) -> str | None:
    """The format the first bytes announce (ISA for X12, UNA/UNB for EDIFACT, ...), if any."""
    with source.open() as handle:
        head = handle.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
    for signature, name in _SIGNATURES:
        if head.startswith(signature):
            return name
    return _EXTENSIONS.get(source.suffix)


_DEFAULT: FormatRegistry | None = None


def default_registry() -> FormatRegistry:
    """The process-wide registry, built on first use (never at import)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = FormatRegistry()
    return _DEFAULT
