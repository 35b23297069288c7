"""Progress of long work — streamed reads, maps over streams, file transfers — for whoever shows it.

The layers that do the work report through this small protocol and never import
a progress-bar library: a reader says ``with progress("reading x.jsonl", unit="B",
total=size) as bar: bar.update(done)`` and goes on. Who shows it is a factory:
by default tqdm's ``tqdm.auto`` (a widget in Jupyter, a text bar on a terminal),
loaded by name from ``atomnb.nb.progress`` the first time a bar is shown, as the
format and connector registries load their entries; ``use_progress(factory)`` sets
another (tests record the counts with one).

A bar is shown only where someone watches, so it is silent (a no-op; nothing is
imported) when:

- ``ATOMNB_PROGRESS`` is ``0``, ``false``, ``no`` or ``off``;
- the code runs inside an execution (``ATOMNB_EXECUTION_ID`` is set: the kernel of
  ``atomnb run``, ``run-all`` or an atom's run), whatever ``ATOMNB_PROGRESS`` says:
  a bar there would land in the output notebook or the kernel's log;
- nobody is watching: not a Jupyter kernel and standard error is no terminal
  (``ATOMNB_PROGRESS=1`` shows bars there too, e.g. for a script's log).

Counts are absolute (``update(done)``), never decrease and end at the total when
the work completes; a bar that knows no total shows a count and a rate.
"""

from __future__ import annotations

import importlib
import os
import sys
from types import TracebackType
from typing import Literal, Protocol

__all__ = [
    "PROGRESS_ENV",
    "Progress",
    "ProgressBar",
    "ProgressFactory",
    "Unit",
    "progress",
    "progress_enabled",
    "use_progress",
]

#: ``0``/``false``/``no``/``off`` silences every bar; ``1`` shows bars without a terminal too.
PROGRESS_ENV = "ATOMNB_PROGRESS"
#: Set in the kernel of every execution (see ``atomnb.process.context``): no bars there.
_EXECUTION_ENV = "ATOMNB_EXECUTION_ID"
#: The default factory, ``module:attribute`` (tqdm.auto), loaded on first use.
_DEFAULT_FACTORY = "atomnb.nb.progress:tqdm_bar"
_OFF = {"0", "false", "no", "off"}
_ON = {"1", "true", "yes", "on"}

#: What a bar counts: bytes (shown as kB, MB …), documents or files.
Unit = Literal["B", "documents", "files"]


class ProgressBar(Protocol):
    """One bar as a factory makes it: told absolute counts, closed once."""

    def update(self, done: int, total: int | None, note: str | None) -> None: ...

    def close(self) -> None: ...


class ProgressFactory(Protocol):
    """Makes a bar for a piece of work; ``total`` is None when unknown."""

    def __call__(self, label: str, *, unit: Unit, total: int | None) -> ProgressBar: ...


_factory: ProgressFactory | None = None


def use_progress(factory: ProgressFactory | None) -> ProgressFactory | None:
    """Show progress with ``factory`` from now on (None: the default, tqdm); the previous one.

    The silence rules still apply: a factory is never asked for a bar inside an
    execution or with ``ATOMNB_PROGRESS=0``.
    """
    global _factory
    previous, _factory = _factory, factory
    return previous


def progress_enabled() -> bool:
    """Whether a bar started now would be shown (see the module's rules)."""
    setting = os.environ.get(PROGRESS_ENV, "").strip().lower()
    if setting in _OFF or os.environ.get(_EXECUTION_ENV):
        return False
    if setting in _ON or _factory is not None:
        return True
    return _in_jupyter_kernel() or _stderr_is_terminal()


def _in_jupyter_kernel() -> bool:
    """A Jupyter kernel with a front end (without importing IPython when nothing did)."""
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    shell = get() if get is not None else None
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (ValueError, AttributeError):  # closed or replaced by something without isatty
        return False


class Progress:
    """A piece of work's progress: monotone absolute counts handed to a bar (or to nobody)."""

    def __init__(self, bar: ProgressBar | None, total: int | None) -> None:
        self._bar = bar
        self.total = total
        self.done = 0
        self._closed = False

    @property
    def shown(self) -> bool:
        return self._bar is not None

    def update(self, done: int, note: str | None = None) -> None:
        """``done`` so far (a smaller count than before is ignored: counts only grow)."""
        if self._bar is None or self._closed:
            return
        if self.total is not None and done > self.total:
            self.total = done  # the file grew while it was read: the total follows
        self.done = max(done, self.done)
        self._bar.update(self.done, self.total, note)

    def advance(self, count: int, note: str | None = None) -> None:
        """``count`` more done."""
        self.update(self.done + count, note)

    def finish(self, note: str | None = None) -> None:
        """The work completed: the count reaches the total (the count is the total if none)."""
        if self._bar is None or self._closed:
            return
        if self.total is None or self.total < self.done:
            self.total = self.done
        self.done = self.total
        self._bar.update(self.done, self.total, note)

    def close(self) -> None:
        if self._bar is not None and not self._closed:
            self._closed = True
            self._bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def progress(label: str, *, unit: Unit = "documents", total: int | None = None) -> Progress:
    """A progress for ``label``: shown by the factory when enabled, else a silent no-op.

    A factory that fails (tqdm missing, a broken terminal) is silenced, never the work.
    """
    if not progress_enabled():
        return Progress(None, total)
    try:
        factory = _factory or _load_default()
        return Progress(factory(label, unit=unit, total=total), total)
    except Exception:  # progress is a courtesy: the read or transfer goes on without it
        return Progress(None, total)


def _load_default() -> ProgressFactory:
    module, _, attribute = _DEFAULT_FACTORY.partition(":")
    found: ProgressFactory = getattr(importlib.import_module(module), attribute)
    return found
