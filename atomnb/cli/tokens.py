"""Who may do what on an atom: `atomnb tokens` (API tokens with roles) and `atomnb audit`."""

from __future__ import annotations

__all__: list[str] = []
