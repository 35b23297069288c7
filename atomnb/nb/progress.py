"""Progress bars with tqdm: a widget in Jupyter, a text bar on a terminal.

The default factory of ``atomnb.documents.progress``: the layers below report
counts through that protocol and this module turns them into ``tqdm.auto`` bars.
A bar appears only after ``delay`` seconds, so a quick read shows nothing. In a
kernel without ipywidgets tqdm's widget cannot be drawn; the text bar is used.
"""

from __future__ import annotations

from typing import IO, Any

from atomnb.documents.progress import Unit

__all__ = ["TqdmBar", "tqdm_bar"]

#: Seconds of work before a bar is drawn (quick reads stay quiet).
DELAY_S = 1.0


class TqdmBar:
    """One tqdm bar driven by absolute counts."""

    def __init__(self, bar: Any) -> None:
        self._bar = bar

    @property
    def tqdm(self) -> Any:
        """The tqdm bar itself (its ``n``, ``total``, and ``str()`` as drawn)."""
        return self._bar

    def update(self, done: int, total: int | None, note: str | None) -> None:
        if total is not None and total != self._bar.total:
            self._bar.total = total
        if note is not None:
            self._bar.set_postfix_str(note, refresh=False)
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        self._bar.close()


def tqdm_bar(
    label: str,
    *,
    unit: Unit,
    total: int | None,
    delay: float | None = None,
    file: IO[str] | None = None,
) -> TqdmBar:
    """A ``tqdm.auto`` bar for ``label``: bytes scaled (KiB, MiB …), documents and files counted.

    It is drawn after ``delay`` seconds (default ``DELAY_S``), on ``file`` when given
    (a text bar), else where ``tqdm.auto`` draws: a widget in Jupyter, stderr elsewhere.
    """
    options: dict[str, Any] = {
        "desc": label,
        "total": total,
        "unit": " " + unit if unit != "B" else unit,
        "delay": DELAY_S if delay is None else delay,
        "leave": False,
        "dynamic_ncols": True,
        "unit_scale": True,
    }
    if unit == "B":
        options["unit_divisor"] = 1024
    from tqdm.std import tqdm as text_bar  # type: ignore[import-untyped]

    if file is not None:
        return TqdmBar(text_bar(file=file, **options))
    try:
        from tqdm.auto import tqdm as auto  # type: ignore[import-untyped]

        return TqdmBar(auto(**options))
    except ImportError:  # tqdm.notebook without ipywidgets: the text bar instead
        return TqdmBar(text_bar(**options))
