"""Who is calling: a bearer token or the console's session cookie, resolved to a name and a role.

The guard (``atomnb.atom.api.guard``) asks ``Access`` for the caller of each
request and puts it on the request's state; console routes use the helpers
below to read their forms (``console_form``: the CSRF check included) and to
render the CSRF field (``csrf_input``). Tokens and session ids are looked up by
their SHA-256 in the store (``atomnb.store.tokens``): a token created or revoked
with ``atomnb tokens`` on the atom's machine counts at the next request.
"""

from __future__ import annotations

import hmac
import threading
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl

from fastapi import Request

from atomnb.atom.api.bodies import UnsupportedMediaTypeError, media_type, read_limited
from atomnb.atom.api.csrf import CSRF_FIELD, csrf_of
from atomnb.store.tokens import StoredToken, TokenStore

__all__ = [
    "CALL_NAME",
    "COOKIE",
    "LEGACY_NAME",
    "LOCAL",
    "MAX_FORM_BYTES",
    "SESSION_HOURS",
    "Access",
    "Caller",
    "console_form",
    "csrf_field",
    "csrf_input",
    "session_id",
]

#: The console session's cookie (its value is the session id; the store keeps its hash).
COOKIE = "atomnb_session"
SESSION_HOURS = 12.0
#: The caller's name for the ``[settings] api_token`` of atom.toml (an admin).
LEGACY_NAME = "api_token"
#: The caller's name for a process call from one of the atom's own kernels.
CALL_NAME = "process-call"
#: The token id a console session of the settings' ``api_token`` is stored under.
LEGACY_ID = "settings:api_token"
#: A console form's body (a few short fields).
MAX_FORM_BYTES = 64 * 1024
#: ``last_used_at`` is written at most this often per token.
_TOUCH_EVERY_S = 60.0
_RECHECK_UNCONFIGURED_S = 1.0  # an atom without tokens asks the store again after this long


@dataclass(frozen=True)
class Caller:
    """Who sent a request: a token's name (or "local"), its role, the console session if any."""

    actor: str
    role: str
    session: str | None = None


#: Anyone on an atom without tokens (loopback only).
LOCAL = Caller("local", "admin")


class Access:
    """Resolves credentials against the store and the settings' token; one per running atom."""

    def __init__(
        self,
        tokens: TokenStore,
        *,
        legacy_token: str | None,
        secure_cookie: bool,
        call_token: str | None = None,
    ) -> None:
        self.tokens = tokens
        self._legacy = legacy_token.encode() if legacy_token else None
        #: What the atom's own kernels send for ``ab.process_call`` (made at start, never stored).
        self._call = call_token.encode() if call_token else None
        self.secure_cookie = secure_cookie
        self._touched: dict[str, float] = {}
        self._lock = threading.Lock()
        self._configured = False
        self._configured_checked = -_RECHECK_UNCONFIGURED_S

    def configured(self) -> bool:
        """True when requests need a token (the settings' one, or any made in the store).

        Asked on every request without a token (each listener message): once true it stays
        true (revoked tokens count), and a false answer is asked of the store again at most
        once a second — a first token made with ``--home`` binds within a second.
        """
        if self._legacy is not None or self._configured:
            return True
        now = time.monotonic()
        if now - self._configured_checked < _RECHECK_UNCONFIGURED_S:
            return False
        self._configured = self.tokens.configured()
        self._configured_checked = now
        return self._configured

    def token_created(self) -> None:
        """A token was made through this atom: requests need one from now on."""
        self._configured = True

    def peek_configured(self) -> bool | None:
        """The answer ``configured`` would give without asking the store, or None."""
        if self._legacy is not None or self._configured:
            return True
        if time.monotonic() - self._configured_checked < _RECHECK_UNCONFIGURED_S:
            return False
        return None

    def login(self, given: str, source: str | None) -> tuple[Caller, str] | None:
        """A new console session for token ``given``: its caller and session id, or None."""
        if self._legacy is not None and hmac.compare_digest(given.encode(), self._legacy):
            session = self.tokens.open_session(LEGACY_ID, hours=SESSION_HOURS, source=source)
            return Caller(LEGACY_NAME, "admin", session), session
        found = self.tokens.by_token(given)
        if found is None:
            return None
        session = self.tokens.open_session(found.id, hours=SESSION_HOURS, source=source)
        caller = self._caller(found)
        return Caller(caller.actor, caller.role, session), session

    def by_bearer(self, given: str) -> Caller | None:
        """The caller a bearer token names, or None (blocking: run it in a thread)."""
        if self._legacy is not None and hmac.compare_digest(given.encode(), self._legacy):
            return Caller(LEGACY_NAME, "admin")
        if self._call is not None and hmac.compare_digest(given.encode(), self._call):
            return Caller(CALL_NAME, "operator")
        found = self.tokens.by_token(given)
        return self._caller(found) if found is not None else None

    def by_session(self, session: str) -> Caller | None:
        """The caller of a console session cookie, or None (expired, unknown, token revoked)."""
        owner = self.tokens.session_owner(session)
        if owner is None:
            return None
        if owner == LEGACY_ID:
            return Caller(LEGACY_NAME, "admin", session) if self._legacy is not None else None
        found = self.tokens.by_session(session)
        if found is None:
            return None
        caller = self._caller(found)
        return Caller(caller.actor, caller.role, session)

    def _caller(self, token: StoredToken) -> Caller:
        now = time.monotonic()
        with self._lock:
            due = now - self._touched.get(token.id, -_TOUCH_EVERY_S) >= _TOUCH_EVERY_S
            if due:
                self._touched[token.id] = now
        if due:
            self.tokens.touch(token.id)
        return Caller(token.name, token.role)


def session_id(request: Request) -> str | None:
    """The console session id of this request (None: no cookie session, e.g. no tokens)."""
    session = getattr(request.state, "session", None)
    return session if isinstance(session, str) else None


def csrf_input(request: Request) -> str:
    """The hidden ``<input>`` every console ``<form method="post">`` must carry."""
    return csrf_of(request).field(session_id(request))


#: The same as ``csrf_input`` (the name some console modules use).
csrf_field = csrf_input


async def console_form(request: Request) -> dict[str, str]:
    """The fields of a console form (urlencoded), once its CSRF field matched the session.

    Raises ``CsrfError`` (answered 403) when the field is missing or stale, and
    415 for a body that is not a form. The CSRF field is not among the fields.
    """
    fields = await read_form(request)
    csrf_of(request).check(session_id(request), fields.pop(CSRF_FIELD, None))
    return fields


async def read_form(request: Request) -> dict[str, str]:
    """The urlencoded body as a dict (the last value of a repeated field wins); no CSRF check."""
    media = media_type(request)
    if media not in ("application/x-www-form-urlencoded", None, ""):
        raise UnsupportedMediaTypeError(
            f"a console form must be sent as application/x-www-form-urlencoded, not {media}"
        )
    body = await read_limited(request, MAX_FORM_BYTES, "the form")
    text = body.decode("utf-8", errors="replace")
    return dict(parse_qsl(text, keep_blank_values=True, max_num_fields=100))
