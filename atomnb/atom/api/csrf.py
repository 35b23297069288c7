"""CSRF tokens for the console's forms (retry, cancel, rollback, pause, login).

The guard already refuses requests whose ``Origin`` is another site's, but a
browser may send a form without an ``Origin`` header, and a cookie session is
sent with any request. So every console form carries a token bound to the
session it was rendered for: ``HMAC(key, session id)``. The key lives in the
app (``app.state.csrf``), made fresh at start: a page rendered before a restart
must be reloaded, which the error says.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from html import escape

from fastapi import FastAPI, Request

from atomnb.errors import AtomError

__all__ = ["CSRF_FIELD", "CsrfError", "CsrfTokens", "csrf_of"]

#: The form field (and header, for scripts) that carries the token.
CSRF_FIELD = "csrf_token"
#: The session id of a request with no console session (an atom without tokens, on loopback).
_ANONYMOUS = "anonymous"


class CsrfError(AtomError):
    """A console form came without the token of the session that sent it (answered 403)."""


class CsrfTokens:
    """Issues and checks the tokens of one running atom."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def token(self, session_id: str | None) -> str:
        """The token a form rendered for ``session_id`` (None: no session) must send back."""
        message = (session_id or _ANONYMOUS).encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def field(self, session_id: str | None) -> str:
        """The hidden ``<input>`` that carries the token in a console form."""
        return f"<input type='hidden' name='{CSRF_FIELD}' value='{escape(self.token(session_id))}'>"

    def check(self, session_id: str | None, given: str | None) -> None:
        """Raise ``CsrfError`` unless ``given`` is the token of ``session_id``."""
        if not given or not hmac.compare_digest(given, self.token(session_id)):
            raise CsrfError(
                "this form is stale or did not come from the atom's console",
                hint="reload the page and try again",
            )


def csrf_of(app: FastAPI | Request) -> CsrfTokens:
    """The app's token issuer, made on first use."""
    state = app.app.state if isinstance(app, Request) else app.state
    if not hasattr(state, "csrf"):
        state.csrf = CsrfTokens()
    tokens: CsrfTokens = state.csrf
    return tokens
