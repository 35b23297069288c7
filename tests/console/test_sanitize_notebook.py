"""The output notebook page keeps nothing that runs, loads or navigates: a hostile notebook."""

from __future__ import annotations

import base64
from html.parser import HTMLParser
from pathlib import Path

import nbformat

from atomnb.web.records.notebook import notebook_html, sanitize

PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )
).decode()

HOSTILE_HTML = (
    "<p>visible text</p>"
    "<script>document.title='pwned'</script>"
    "<img src='x' onerror=\"document.body.innerHTML='pwned'\">"
    "<img src='http://evil.invalid/track.png'>"
    "<img src='//evil.invalid/protocol-relative.png'>"
    "<a href='javascript:alert(1)'>js link</a>"
    "<a href='https://evil.invalid/'>away</a>"
    "<div onclick='alert(2)' style='background:url(http://evil.invalid/bg.png)'>box</div>"
    "<svg onload='alert(3)'><image href='http://evil.invalid/s.png'/></svg>"
    "<iframe src='http://evil.invalid/'></iframe>"
    "<object data='http://evil.invalid/o'></object><embed src='http://evil.invalid/e'>"
    "<form action='http://evil.invalid/f'><input name='q'><button>go</button></form>"
    "<style>body{background:url(http://evil.invalid/css.png)}</style>"
    "<link rel='stylesheet' href='http://evil.invalid/x.css'>"
    "<meta http-equiv='refresh' content='0;url=http://evil.invalid/'>"
    "<base href='http://evil.invalid/'>"
    "<a href='#kept-anchor'>in page</a>"
)


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.style_text: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.style_text.append(data)


def _hostile_notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("show()")
    code.outputs = [
        nbformat.v4.new_output("display_data", data={"text/html": HOSTILE_HTML}),
        nbformat.v4.new_output(
            "display_data", data={"application/javascript": "document.title='pwned-js'"}
        ),
        nbformat.v4.new_output("display_data", data={"image/png": PNG}),
        nbformat.v4.new_output(
            "display_data", data={"image/svg+xml": "<svg onload='alert(4)'></svg>"}
        ),
    ]
    markdown = nbformat.v4.new_markdown_cell(
        "[click](javascript:alert(5)) <img src='http://evil.invalid/md.png'> "
        "<script>alert(6)</script>"
    )
    nb.cells = [markdown, code]
    nbformat.write(nb, path)
    return path


def _check_harmless(page: str) -> _Collect:
    parsed = _Collect()
    parsed.feed(page)
    forbidden = {"script", "iframe", "object", "embed", "form", "input", "link", "base", "svg"}
    for tag, attrs in parsed.tags:
        assert tag not in forbidden, (tag, attrs)
        if tag == "meta":
            assert set(attrs) == {"charset"}, attrs
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name, value)
            assert name != "style", (tag, value)
            if name == "src":
                assert (value or "").startswith("data:image/"), (tag, value)
            if name in ("href", "action", "data", "xlink:href"):
                assert (value or "").startswith("#"), (tag, name, value)
    assert "evil.invalid" not in "".join(parsed.style_text)
    return parsed


def test_hostile_output_notebook_keeps_only_harmless_html(tmp_path: Path) -> None:
    page = notebook_html(_hostile_notebook(tmp_path / "hostile.ipynb"), "hostile")
    parsed = _check_harmless(page)
    assert "visible text" in page
    images = [a.get("src") for t, a in parsed.tags if t == "img" and a.get("src")]
    assert images == [f"data:image/png;base64,{PNG}"]  # the notebook's own figure stays
    assert any(a.get("href") == "#kept-anchor" for t, a in parsed.tags if t == "a")
    assert sum(1 for t, _ in parsed.tags if t == "style") == 1  # the page's own


def test_sanitize_alone() -> None:
    cleaned = sanitize(HOSTILE_HTML)
    _check_harmless(cleaned)
    assert "pwned" not in cleaned and "alert" not in cleaned


def test_an_unreadable_notebook_is_said_not_raised(tmp_path: Path) -> None:
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{not json")
    assert "cannot be shown" in notebook_html(broken, "broken")
