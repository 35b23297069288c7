"""Shared type aliases only; no logic lives here."""

from __future__ import annotations

import os
from typing import Any, TypeAlias

PathLike: TypeAlias = str | os.PathLike[str]
JSONValue: TypeAlias = bool | int | float | str | list[Any] | dict[str, Any] | None
Params: TypeAlias = dict[str, Any]
