"""`atomnb apis`: published API components, their keys and OpenAPI documents (issue 15).

An API component (``components/apis/NAME.yaml``) is deployed with the processes it
routes to. ``atomnb apis keys`` makes, lists and revokes its keys two ways, as
``atomnb tokens`` does: on the atom's machine with ``--home`` (the store
directly), or through a running atom with ``--atom`` as an admin. A new key is
printed once; the store keeps only its SHA-256.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from atomnb.cli.present import JSON_OPTION
from atomnb.cli.root import ATOM_HOME, ATOM_STORE, ATOM_URL, cli
from atomnb.errors import ConfigError, UnknownEntityError

__all__: list[str] = []


@cli.group("apis")
def apis() -> None:
    """Published API components: their keys, limits and OpenAPI documents."""


@apis.group("keys")
def keys() -> None:
    """Make, list and revoke an API's keys (shown once, stored hashed)."""


class _Where:
    """The keys of an atom: its store (``--home``) or its API (``--atom``)."""

    def __init__(self, home: Path | None, store_url: str | None, atom_url: str | None) -> None:
        if home is not None and atom_url is not None:
            raise ConfigError("give --home (the store directly) or --atom (the API), not both")
        self.home, self.store_url, self.atom_url = home, store_url, atom_url

    @contextmanager
    def direct(self) -> Iterator[Any]:
        from atomnb.cli.tokens import _direct

        assert self.home is not None
        with _direct(self.home, self.store_url) as direct:
            yield direct

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        from atomnb.atom.client import AtomClient

        with AtomClient(self.atom_url, timeout_s=60) as client:
            return client.request(method, path, **kwargs).json()


def _deployed(direct: Any, api: str) -> None:
    from atomnb.store.apikeys import ApiStore

    if ApiStore(direct.store).get(api) is None:
        known = ", ".join(a.name for a in ApiStore(direct.store).all()) or "none"
        raise UnknownEntityError(
            f"no API named {api!r} is deployed on this atom",
            hint=f"deployed: {known}; an API is deployed with the processes it routes to",
        )


@keys.command("create")
@click.argument("api")
@click.argument("name")
@ATOM_HOME
@ATOM_STORE
@ATOM_URL
def keys_create(
    api: str, name: str, home: Path | None, store_url: str | None, atom_url: str | None
) -> None:
    """Create key NAME for API and print it once (it is stored hashed)."""
    where = _Where(home, store_url, atom_url)
    if home is not None:
        from atomnb.store.apikeys import ApiKeyStore

        with where.direct() as direct:
            _deployed(direct, api)
            _, key = ApiKeyStore(direct.store).create(api, name, created_by=direct.actor)
            direct.record("api_key.create", f"{api}/{name}", {"name": name, "api": api})
    else:
        key = where.call("POST", f"/api/apis/{api}/keys", json={"name": name})["key"]
    click.echo(f"key {name} of API {api} created; it is shown this once, keep it safe:", err=True)
    click.echo(key)


@keys.command("list")
@click.argument("api")
@ATOM_HOME
@ATOM_STORE
@ATOM_URL
@JSON_OPTION
def keys_list(
    api: str, home: Path | None, store_url: str | None, atom_url: str | None, as_json: bool
) -> None:
    """List API's keys: names, when made, last used and revoked (never a key)."""
    where = _Where(home, store_url, atom_url)
    if home is not None:
        from atomnb.store.apikeys import ApiKeyStore

        with where.direct() as direct:
            _deployed(direct, api)
            found = [k.as_dict() for k in ApiKeyStore(direct.store).all(api)]
    else:
        found = where.call("GET", f"/api/apis/{api}/keys")
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    if not found:
        click.echo(f"API {api} has no keys yet: atomnb apis keys create {api} NAME")
        return
    from atomnb.cli.present import grid
    from atomnb.cli.tokens import _when

    rows = [
        (
            k["name"],
            _when(k["created_at"]),
            k.get("created_by") or "",
            _when(k.get("last_used_at")),
            _when(k.get("revoked_at")) if k.get("revoked_at") else "",
        )
        for k in found
    ]
    click.echo(grid([("NAME", "CREATED", "BY", "LAST USED", "REVOKED"), *rows]))


@keys.command("revoke")
@click.argument("api")
@click.argument("name")
@ATOM_HOME
@ATOM_STORE
@ATOM_URL
def keys_revoke(
    api: str, name: str, home: Path | None, store_url: str | None, atom_url: str | None
) -> None:
    """Revoke key NAME of API: it stops working at once (403)."""
    where = _Where(home, store_url, atom_url)
    if home is not None:
        from atomnb.store.apikeys import ApiKeyStore

        with where.direct() as direct:
            ApiKeyStore(direct.store).revoke(api, name)
            direct.record("api_key.revoke", f"{api}/{name}", {"name": name, "api": api})
    else:
        where.call("DELETE", f"/api/apis/{api}/keys/{name}")
    click.echo(f"key {name} of API {api} revoked")


@apis.command("list")
@ATOM_URL
@JSON_OPTION
def apis_list(atom_url: str | None, as_json: bool) -> None:
    """List the APIs deployed on an atom: base path, version, routes, deployed with what."""
    found = _Where(None, None, atom_url).call("GET", "/api/apis")
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    if not found:
        click.echo("no APIs deployed: an API is deployed with the processes it routes to")
        return
    from atomnb.cli.present import grid
    from atomnb.cli.tokens import _when

    rows = [
        (
            a["name"],
            f"v{a['version']}",
            a["base_path"],
            str(a["routes"]),
            a["deployed_with"],
            _when(a["deployed_at"]),
        )
        for a in found
    ]
    header = ("NAME", "VERSION", "BASE PATH", "ROUTES", "DEPLOYED WITH", "DEPLOYED")
    click.echo(grid([header, *rows]))


@apis.command("openapi")
@click.argument("name")
@ATOM_URL
def apis_openapi(name: str, atom_url: str | None) -> None:
    """Print API NAME's OpenAPI document (JSON), as the atom serves it."""
    document = _Where(None, None, atom_url).call("GET", f"/apis/{name}/openapi.json")
    click.echo(json.dumps(document, indent=2))
