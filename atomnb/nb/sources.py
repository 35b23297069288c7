"""What a notebook user hands the magics and widgets as "sample documents", made Documents.

A sample can be a file path, Documents (from a reader or a connector call), a
pandas DataFrame or a list of records; a name in a magic is looked up in the
user's namespace first, then taken as a path. One function, so the profile
magic, the map magic and the mapper accept exactly the same things.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from atomnb.documents import Documents
from atomnb.errors import ConfigError

__all__ = ["as_documents", "resolve_sample"]


def as_documents(value: Any, *, format: str | None = None) -> Documents:
    """``value`` as Documents: Documents, a DataFrame, records, or a file path to read."""
    if isinstance(value, Documents):
        return value
    if isinstance(value, (str, Path)):
        from atomnb.formats import read

        path = Path(value)
        if not path.exists():
            raise ConfigError(
                f"no sample file {value} (nor a variable of that name)",
                hint="give a file path, or the name of Documents or a DataFrame in the notebook",
            )
        read_docs = read(path, format=format)
        assert isinstance(read_docs, Documents)
        return read_docs
    if isinstance(value, list) and all(isinstance(v, Mapping) for v in value):
        return Documents.from_records(value)
    if type(value).__name__ == "DataFrame" and hasattr(value, "to_dict"):
        return Documents.from_pandas(value)
    raise ConfigError(
        f"cannot use a {type(value).__name__} as sample documents",
        hint="use Documents, a pandas DataFrame, a list of dicts or a file path",
    )


def resolve_sample(
    name: str, namespace: Mapping[str, Any], *, format: str | None = None
) -> Documents:
    """A magic's sample argument: a variable in ``namespace`` if there is one, else a path."""
    if name.isidentifier() and name in namespace:
        return as_documents(namespace[name], format=format)
    return as_documents(name, format=format)
