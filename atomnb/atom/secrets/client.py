"""The secrets part of the atom's API as the CLI calls it: names and times, never a value."""

from __future__ import annotations

import getpass
import platform
from typing import Any
from urllib.parse import quote

from atomnb.atom.client import AtomClient

__all__ = ["ACTOR_HEADER", "SecretsClient"]

#: Who asks (user@host), for the atom's audit log; informative, not an authentication.
ACTOR_HEADER = "x-atomnb-actor"


class SecretsClient(AtomClient):
    """An ``AtomClient`` that also sets, lists, deletes and rotates the atom's secrets."""

    def __enter__(self) -> SecretsClient:
        return self

    def _actor(self) -> dict[str, str]:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):  # no user name in a bare container
            user = "unknown"
        return {ACTOR_HEADER: f"{user}@{platform.node()}"}

    def set_secret(self, name: str, value: str) -> dict[str, Any]:
        """Store ``value`` encrypted under ``name``; the answer has ``created``, never the value."""
        response = self._call(
            "PUT",
            f"/api/secrets/{quote(name, safe='')}",
            json={"value": value},
            headers=self._actor(),
        )
        return dict(response.json())

    def secrets(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/api/secrets").json())

    def delete_secret(self, name: str) -> dict[str, Any]:
        path = f"/api/secrets/{quote(name, safe='')}"
        return dict(self._call("DELETE", path, headers=self._actor()).json())

    def rotate_secrets(self) -> dict[str, Any]:
        return dict(self._call("POST", "/api/secrets/rotate", headers=self._actor()).json())
