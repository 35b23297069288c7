"""The console's login page: one field for an API token, server-rendered, no remote assets."""

from __future__ import annotations

import html

__all__ = ["login_page"]

_STYLE = """
body{font:15px system-ui,sans-serif;margin:0;color:#222;background:#f4f5f7}
main{max-width:26rem;margin:12vh auto;background:#fff;padding:1.5rem 2rem;border-radius:6px;
box-shadow:0 1px 4px rgba(0,0,0,.12)}
h1{font-size:1.3rem;margin:0 0 1rem} label{display:block;margin:.6rem 0 .3rem}
input[type=password]{width:100%;box-sizing:border-box;padding:.45rem;font:inherit}
button{margin-top:1rem;padding:.45rem 1.2rem;font:inherit;cursor:pointer}
.error{color:#b71c1c;margin:.5rem 0} .muted{color:#666;font-size:13px}
"""


def login_page(
    atom_id: str,
    *,
    csrf_field: str,
    next_url: str = "/",
    error: str | None = None,
    open_atom: bool = False,
) -> str:
    """The form that trades a token for a console session; ``open_atom``: no tokens exist."""
    e = html.escape
    if open_atom:
        body = (
            "<p>This atom has no API tokens: it answers loopback callers without a login.</p>"
            "<p><a href='/'>Open the console</a></p>"
            "<p class='muted'>Make one on the atom's machine: "
            "<code>atomnb tokens create NAME --role admin --home ATOM_HOME</code></p>"
        )
    else:
        message = f"<p class='error' role='alert'>{e(error)}</p>" if error else ""
        body = (
            f"{message}<form method='post' action='/login'>{csrf_field}"
            f"<input type='hidden' name='next' value='{e(next_url, quote=True)}'>"
            "<label for='token'>API token</label>"
            "<input type='password' id='token' name='token' autocomplete='current-password' "
            "required autofocus>"
            "<button type='submit'>Log in</button></form>"
            "<p class='muted'>A token comes from <code>atomnb tokens create</code>; "
            "the session lasts 12 hours.</p>"
        )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>Log in · atom {e(atom_id)}</title><style>{_STYLE}</style></head>"
        f"<body><main><h1>Atom {e(atom_id)}</h1>{body}</main></body></html>"
    )
