"""A client of the atom's HTTP API: what the CLI (and a notebook) use to drive an atom.

Every failure becomes an ``AtomError`` with the atom's own message and hint
(``UnknownEntityError`` for 404, ``AtomUnavailableError`` for 503 or an atom
that cannot be reached, ``PayloadTooLargeError`` for 413). Which atom:
``atomnb.components.atom_address.require_atom`` (``--atom``, then
``$ATOMNB_ATOM_URL``, then ``atom =`` in atomnb.toml). When
``$ATOMNB_ATOM_TOKEN`` is set, every request carries it as a bearer token (for
an atom with ``api_token`` in its settings).
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx

from atomnb._types import PathLike
from atomnb.atom.package import Package
from atomnb.components.atom_address import (
    ATOM_TOKEN_ENV,
    ATOM_URL_ENV,
    NO_ATOM_HINT,
    AtomAddress,
    require_atom,
)
from atomnb.errors import (
    AtomError,
    AtomUnavailableError,
    PayloadTooLargeError,
    UnknownEntityError,
)

__all__ = ["ATOM_TOKEN_ENV", "ATOM_URL_ENV", "TRIGGER_ATTEMPTS", "AtomClient"]

_ERRORS: dict[int, type[AtomError]] = {
    404: UnknownEntityError,
    413: PayloadTooLargeError,
    503: AtomUnavailableError,
}
#: How often ``trigger`` sends one request when the connection drops (same Idempotency-Key).
TRIGGER_ATTEMPTS = 3


class AtomClient:
    """Talks to one atom: ``url`` (or an ``AtomAddress``) defaults to the configured atom.

    Without ``url`` the atom comes from $ATOMNB_ATOM_URL, then ``atom =`` in the
    workspace's atomnb.toml (``start`` says where to look for it); ``token``
    defaults to $ATOMNB_ATOM_TOKEN.
    """

    def __init__(
        self,
        url: str | AtomAddress | None = None,
        *,
        timeout_s: float = 30.0,
        token: str | None = None,
        start: PathLike | None = None,
    ) -> None:
        address = url if isinstance(url, AtomAddress) else require_atom(url, start=start)
        self.address = address
        self.url = address.url
        token = token or address.token
        headers = {"authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.url, timeout=timeout_s, headers=headers)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AtomClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, *, attempts: int = 1, **kwargs: Any) -> httpx.Response:
        """One request; with ``attempts`` > 1 it is sent again when the connection fails."""
        for attempt in range(1, attempts + 1):
            try:
                response = self._http.request(method, path, **kwargs)
                break
            except httpx.HTTPError as exc:
                if attempt < attempts:
                    time.sleep(0.5 * 2 ** (attempt - 1))
                    continue
                raise AtomUnavailableError(
                    f"cannot reach {self.address.describe()}: {type(exc).__name__}",
                    hint=f"is it running? {NO_ATOM_HINT}",
                ) from None
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {"error": response.text[:500]}
            if not isinstance(body, dict):
                body = {"error": json.dumps(body)[:500]}
            message = body.get("error") or body.get("detail") or response.reason_phrase
            if not isinstance(message, str):
                message = json.dumps(message)
            error = _ERRORS.get(response.status_code, AtomError)
            raise error(f"the atom refused: {message}", hint=body.get("hint"))
        return response

    def health(self) -> dict[str, Any]:
        return dict(self._call("GET", "/api/health").json())

    def deploy(self, package: Package, **options: Any) -> dict[str, Any]:
        params = {k: v for k, v in options.items() if v is not None}
        if "notify" in params:
            params["notify"] = json.dumps(params["notify"])
        params["notebook"] = package.notebook
        response = self._call(
            "POST",
            "/api/deployments",
            params=params,
            content=package.data,
            headers={"content-type": "application/zip"},
        )
        return dict(response.json())

    def deployments(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/api/deployments").json())

    def trigger(
        self,
        process: str,
        parameters: dict[str, Any] | None = None,
        secrets: dict[str, str] | None = None,
        *,
        wait: bool = False,
        wait_timeout_s: float = 300.0,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Trigger ``process``; a dropped connection is retried without a second execution.

        Every attempt carries the same ``Idempotency-Key`` (``idempotency_key``, or
        one made for this call), so the atom answers a retry with the execution
        the first attempt started.
        """
        key = idempotency_key or uuid.uuid4().hex
        body = {
            "parameters": parameters or {},
            "secrets": secrets or {},
            "wait": wait,
            "wait_timeout_s": wait_timeout_s,
        }
        timeout = wait_timeout_s + 30 if wait else None
        response = self._call(
            "POST",
            f"/api/processes/{process}/executions",
            json=body,
            headers={"idempotency-key": key},
            attempts=TRIGGER_ATTEMPTS,
            **({"timeout": timeout} if timeout else {}),
        )
        return dict(response.json())

    def executions(
        self, *, process: str | None = None, status: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": limit}
        if process:
            params["process"] = process
        if status:
            params["status"] = status
        return list(self._call("GET", "/api/executions", params=params).json())

    def execution(self, execution_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/api/executions/{execution_id}").json())

    def cancel(self, execution_id: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/api/executions/{execution_id}/cancel").json())

    def output_notebook(self, execution_id: str) -> bytes:
        return self._call("GET", f"/api/executions/{execution_id}/notebook").content

    def tracked(self, field: str, value: str, *, limit: int = 100) -> list[dict[str, Any]]:
        """Executions that tracked ``field`` = ``value``: ``{execution, shape, document}`` each."""
        params = {"field": field, "value": value, "limit": limit}
        return list(self._call("GET", "/api/tracked", params=params).json())

    def calls(self, execution_id: str) -> list[dict[str, Any]]:
        """The executions ``execution_id`` called (``ab.process_call``), oldest first."""
        return list(self._call("GET", f"/api/executions/{execution_id}/calls").json())

    def queue(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/api/queue").json())

    def schedules(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/api/schedules").json())

    # -- runtime management (issue 14) ---------------------------------------------------

    def undeploy(self, process: str) -> dict[str, Any]:
        """Stop scheduling and triggering ``process`` (its versions stay in the history)."""
        return dict(self._call("DELETE", f"/api/deployments/{process}").json())

    def rollback(self, process: str, to: int | None = None) -> dict[str, Any]:
        """Make version ``to`` (None: the one before the active one) active again.

        Answers ``{"deployment": {...}, "changed": bool, "from_version": int | None}``.
        """
        return dict(
            self._call("POST", f"/api/deployments/{process}/rollback", json={"to": to}).json()
        )

    def deployment_history(self, process: str) -> list[dict[str, Any]]:
        """Every version of ``process``, newest first, with who deployed and activated it."""
        return list(self._call("GET", f"/api/deployments/{process}").json())

    def atoms(self) -> list[dict[str, Any]]:
        """Every atom on this atom's store: status, version, workers, resources, work."""
        return list(self._call("GET", "/api/atoms").json())

    def pause_atom(self, atom_id: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/api/atoms/{atom_id}/pause").json())

    def resume_atom(self, atom_id: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/api/atoms/{atom_id}/resume").json())

    def restart_atom(self, atom_id: str, wait_s: float | None = None) -> dict[str, Any]:
        """Ask the atom to restart once its running executions finish (``wait_s`` at most)."""
        body = {"wait_s": wait_s}
        return dict(self._call("POST", f"/api/atoms/{atom_id}/restart", json=body).json())

    def pause_schedule(self, process: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/api/schedules/{process}/pause").json())

    def resume_schedule(self, process: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/api/schedules/{process}/resume").json())

    # -- who may do what (issue 14) ------------------------------------------------------

    def tokens(self) -> list[dict[str, Any]]:
        """The atom's API tokens: names, roles and times (an admin's call)."""
        return list(self._call("GET", "/api/tokens").json())

    def create_token(self, name: str, role: str) -> dict[str, Any]:
        """Create token ``name`` with ``role``; the answer's ``token`` is shown this once."""
        return dict(self._call("POST", "/api/tokens", json={"name": name, "role": role}).json())

    def revoke_token(self, name: str) -> dict[str, Any]:
        return dict(self._call("DELETE", f"/api/tokens/{name}").json())

    def audit(self, **filters: Any) -> dict[str, Any]:
        """A page of the audit log, newest first: ``{"entries": [...], "next_before": id}``.

        Filters: ``since`` (ISO time), ``actor``, ``action``, ``before``, ``limit``.
        """
        params = {k: v for k, v in filters.items() if v is not None}
        return dict(self._call("GET", "/api/audit", params=params).json())

    # -- published APIs (issue 15) and B2B partners (issue 16) ------------------------------

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Any route of the atom, with the client's token and its errors as atomnb errors."""
        return self._call(method, path, **kwargs)

    def apis(self) -> list[dict[str, Any]]:
        """The API components deployed on the atom, with their routes."""
        return list(self._call("GET", "/api/apis").json())

    def api_keys(self, api: str) -> list[dict[str, Any]]:
        """API ``api``'s keys: names and times, never a key (an admin's call)."""
        return list(self._call("GET", f"/api/apis/{api}/keys").json())

    def create_api_key(self, api: str, name: str) -> dict[str, Any]:
        """A new key ``name`` for ``api``; the answer's ``key`` is shown this once."""
        return dict(self._call("POST", f"/api/apis/{api}/keys", json={"name": name}).json())

    def revoke_api_key(self, api: str, name: str) -> dict[str, Any]:
        return dict(self._call("DELETE", f"/api/apis/{api}/keys/{name}").json())

    def api_openapi(self, api: str) -> dict[str, Any]:
        """The OpenAPI document API ``api`` publishes."""
        return dict(self._call("GET", f"/apis/{api}/openapi.json").json())

    def overdue_acknowledgements(self, *, notify: bool = False) -> list[dict[str, Any]]:
        """Interchanges sent whose acknowledgement is overdue (``notify``: tell partners first)."""
        if notify:
            self._call("POST", "/api/partners/overdue/notify")
        return list(self._call("GET", "/api/partners/overdue").json()["overdue"])
