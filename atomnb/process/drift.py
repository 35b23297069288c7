"""A process's profile drift policy: what an execution does when live documents drift.

Every profile applied inside an execution (a parse shape's, a map's source profile, a
connector's response profile) is measured for drift (``atomnb.profiles.drift``) and the
execution record keeps the counts per profile and path. The notebook's metadata
``atomnb.drift`` says what else happens:

- ``record`` (default): recorded and shown (``executions show``, the API, the console);
  the status stays what the run made it;
- ``warn``: also turns a success into ``succeeded_with_warnings``;
- ``notify``: as ``warn``, and on an atom the deployment's ``notify`` webhook / email
  get a ``drift`` message (paths and counts, never values);
- ``ignore``: nothing is measured (no cost; reading with a profile still logs unknown fields).

The executor hands the policy to the kernel in ``$ATOMNB_DRIFT``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from atomnb.errors import ConfigError
from atomnb.profiles.drift_collect import DRIFT_ENV

__all__ = [
    "DEFAULT_POLICY",
    "DRIFT_ENV",
    "POLICIES",
    "drift_policy",
    "kernel_policy",
    "turns_status",
]

POLICIES = ("ignore", "record", "warn", "notify")
DEFAULT_POLICY = "record"


def drift_policy(metadata: Mapping[str, Any], where: str = "the notebook") -> str:
    """The policy in a notebook's metadata (``atomnb.drift``); a bad value names the notebook.

    >>> drift_policy({"atomnb": {"drift": "warn"}})
    'warn'
    >>> drift_policy({})
    'record'
    """
    meta = metadata.get("atomnb") or {}
    if not isinstance(meta, Mapping):
        raise ConfigError(f"{where}: metadata 'atomnb' must be a mapping")
    policy = meta.get("drift", DEFAULT_POLICY)
    if policy not in POLICIES:
        raise ConfigError(
            f"{where}: metadata atomnb.drift is {policy!r}", hint=f"one of {', '.join(POLICIES)}"
        )
    return str(policy)


def kernel_policy() -> str:
    """The policy of the execution this kernel runs (``record`` when run interactively)."""
    policy = os.environ.get(DRIFT_ENV, DEFAULT_POLICY)
    return policy if policy in POLICIES else DEFAULT_POLICY


def turns_status(policy: str) -> bool:
    """Whether drift under ``policy`` turns a success into one with warnings."""
    return policy in ("warn", "notify")
