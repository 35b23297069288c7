"""Run-time management of atoms: `atomnb atoms`, `undeploy`, `rollback`, pause and resume."""

from __future__ import annotations

__all__: list[str] = []
