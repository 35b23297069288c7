"""An execution's output notebook as a page that is safe to open: converted, then sanitized.

An output notebook holds whatever the process printed or displayed, and that
may come from the documents it read: a cell's HTML output can carry a
``<script>``, an ``onerror=`` handler, an ``<img>`` from another host (which
tells that host who looked, and when) or a ``javascript:`` link. So the page
is built in three guards:

1. nbconvert's ``basic`` template turns the notebook into HTML (body only: the
   page's own frame and CSS are ours, never the notebook's);
2. nh3 keeps a short list of tags and attributes: no scripts, styles, forms,
   frames or event handlers; ``src`` only as a ``data:image/…`` URI, ``href``
   only to an anchor inside the page (other links keep their text);
3. the route serves it with a Content-Security-Policy that allows nothing but
   inline styles and ``data:`` images (``NOTEBOOK_CSP``), and the console shows
   it in a sandboxed iframe.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import nh3
from nbconvert import HTMLExporter
from pygments.formatters import HtmlFormatter  # type: ignore[import-untyped]

from atomnb.web.console.layout import esc

__all__ = ["MAX_NOTEBOOK_BYTES", "NOTEBOOK_CSP", "notebook_html", "sanitize"]

#: What the notebook page may load: inline styles (its own) and data: images, nothing else.
NOTEBOOK_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)
#: A bigger output notebook is not rendered (it would take the atom's time and memory).
MAX_NOTEBOOK_BYTES = 25 * 1024 * 1024

_TAGS = (set(nh3.ALLOWED_TAGS) - {"area", "map"}) | {"pre", "code"}
_ATTRIBUTES = {
    "*": {"class", "title", "lang", "dir"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
}
_IMAGE_PREFIXES = ("data:image/png", "data:image/jpeg", "data:image/gif", "data:image/webp")

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:.6rem;color:#1f2328;background:#fff}
.cell{margin:0 0 .8rem}
.input_area,.jp-InputArea-editor{background:#f6f8fa;border:1px solid #d0d7de;border-radius:4px;
padding:.3rem .5rem;overflow-x:auto}
.prompt,.jp-InputPrompt,.jp-OutputPrompt{color:#8c959f;font-size:12px}
.output_area pre,.output_subarea pre{background:#fff;margin:.2rem 0;white-space:pre-wrap}
.output_stderr,.output_error{background:#fff0f0}
pre{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;margin:0}
table{border-collapse:collapse}th,td{border:1px solid #d0d7de;padding:.15rem .4rem}
img{max-width:100%}
"""


def _attribute(tag: str, attribute: str, value: str) -> str | None:
    """Keep ``src`` only as an inline image and ``href`` only as an anchor in the page."""
    if attribute == "src":
        return value if value.strip().lower().startswith(_IMAGE_PREFIXES) else None
    if attribute == "href":
        return value if value.strip().startswith("#") else None
    return value


def sanitize(html: str) -> str:
    """``html`` with only harmless tags and attributes left (see the module's docstring)."""
    return nh3.clean(
        html,
        tags=_TAGS,
        clean_content_tags={"script", "style", "noscript", "template", "textarea", "title"},
        attributes=_ATTRIBUTES,
        attribute_filter=_attribute,
        url_schemes={"data"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def notebook_html(path: Path, title: str) -> str:
    """The whole page for the output notebook at ``path``: converted, sanitized, framed.

    A notebook too big or unreadable gives a page saying so instead of an error.
    """
    try:
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            body = (
                f"<p>The output notebook is {size // (1024 * 1024)} MB, more than the "
                f"{MAX_NOTEBOOK_BYTES // (1024 * 1024)} MB shown here; download it from "
                "the execution's API (<code>/api/executions/ID/notebook</code>).</p>"
            )
        else:
            notebook = nbformat.read(path, as_version=4)
            body, _ = HTMLExporter(template_name="basic").from_notebook_node(  # type: ignore[no-untyped-call]
                notebook
            )
            body = sanitize(body)
    except (OSError, ValueError, json.JSONDecodeError, nbformat.ValidationError) as exc:
        body = f"<p>The output notebook cannot be shown: {esc(exc.__class__.__name__)}.</p>"
    highlight = HtmlFormatter().get_style_defs(".highlight")
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{esc(title)}</title><style>{_CSS}{highlight}</style></head>"
        f"<body>{body}</body></html>"
    )
