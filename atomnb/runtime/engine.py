"""The papermill engine every run uses: each save of the notebook is scrubbed, warm kernels too.

papermill saves the notebook at the start, before and after every cell and every
30 s of a long cell. A save that held a secret would outlive a SIGKILL of the
atom, so no save ever does: this engine's execution manager writes a scrubbed
copy (stream outputs joined, every encoded form of every secret replaced, and a
running cell's last output cut before any tail that could be the start of a
secret still being printed), atomically. papermill itself is told to save
nothing (no output path); the engine also adds papermill's error cell and saves
before raising, which papermill would otherwise do unscrubbed. Without ``save_to``
(a bridge-mode run, which keeps no documents) nothing is saved at any point.

A ``warm_kernel`` (passed through ``execute_notebook``'s engine keyword arguments)
runs the notebook on an already started kernel: its manager and connected client
go to papermill's notebook client, so everything else stays papermill's.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import nbformat
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines
from papermill.exceptions import PapermillExecutionError
from papermill.execute import raise_for_execution_errors
from papermill.utils import merge_kwargs, remove_args

from atomnb._files import write_text_atomically
from atomnb.process.scrubber import Scrubber
from atomnb.runtime.scrub import join_streams, scrub_notebook
from atomnb.runtime.warm import WarmKernel

__all__ = ["ENGINE", "WARM_ENGINE", "save_scrubbed"]

ENGINE = "atomnb"
WARM_ENGINE = ENGINE  # one engine: a warm kernel is an engine keyword argument


def save_scrubbed(nb: nbformat.NotebookNode, path: Path, scrubber: Scrubber) -> None:
    """Write a scrubbed copy of ``nb`` to ``path`` atomically; ``nb`` itself is left as is."""
    node = copy.deepcopy(nb) if scrubber else nb
    if scrubber:
        for cell in node.get("cells", []):
            running = cell.get("metadata", {}).get("papermill", {}).get("status") == "running"
            if running and cell.get("outputs"):
                # Still printing: hold back what may be the first half of a secret.
                cell["outputs"] = join_streams(list(cell["outputs"]))
                last = cell["outputs"][-1]
                if last.get("output_type") == "stream":
                    text = last["text"]
                    last["text"] = text[: len(text) - scrubber.pending(text)]
        scrub_notebook(node, scrubber)
    text = nbformat.writes(node)
    write_text_atomically(path, text if text.endswith("\n") else text + "\n")


class _ScrubbingManager(NotebookExecutionManager):  # type: ignore[misc]
    def __init__(self, nb: Any, save_to: Path, scrubber: Scrubber, **kwargs: Any) -> None:
        super().__init__(nb, output_path=None, **kwargs)
        self.save_to = save_to
        self.scrubber = scrubber

    def save(self, **kwargs: Any) -> None:
        if kwargs.get("nb") is not None:
            self.nb = kwargs["nb"]
        save_scrubbed(self.nb, self.save_to, self.scrubber)
        self.last_save_time = self.now()


class _WarmClient(PapermillNotebookClient):  # type: ignore[misc]
    def __init__(self, nb_man: Any, warm: WarmKernel, **kwargs: Any) -> None:
        super().__init__(nb_man, km=warm.manager, **kwargs)
        self.kc = warm.client  # connected already: setup_kernel skips starting one


class _Engine(NBClientEngine):  # type: ignore[misc]
    @classmethod
    def execute_notebook(
        cls,
        nb: Any,
        kernel_name: str,
        output_path: Any = None,
        progress_bar: bool = False,
        log_output: bool = False,
        autosave_cell_every: int = 30,
        *,
        save_to: Path | None = None,
        scrubber: Scrubber | None = None,
        **kwargs: Any,
    ) -> Any:
        options = {
            "progress_bar": progress_bar,
            "log_output": log_output,
            "autosave_cell_every": autosave_cell_every,
        }
        if save_to is None:  # papermill saves to output_path itself (no secrets to scrub),
            # or, as for a run that keeps no documents (bridge mode), nowhere at all
            return super().execute_notebook(nb, kernel_name, output_path, **options, **kwargs)
        nb_man = _ScrubbingManager(nb, save_to, scrubber or Scrubber(), **options)
        nb_man.notebook_start()
        try:
            cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
        finally:
            nb_man.cleanup_pbar()
            nb_man.notebook_complete()
        try:
            raise_for_execution_errors(nb_man.nb, None)  # adds papermill's error cell
        except PapermillExecutionError:
            nb_man.save()
            raise
        return nb_man.nb

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man: Any,
        kernel_name: str,
        log_output: bool = False,
        stdout_file: Any = None,
        stderr_file: Any = None,
        start_timeout: int = 60,
        execution_timeout: float | None = None,
        **kwargs: Any,
    ) -> Any:
        warm = kwargs.pop("warm_kernel", None)
        if warm is None:
            return super().execute_managed_notebook(
                nb_man,
                kernel_name,
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
                start_timeout=start_timeout,
                execution_timeout=execution_timeout,
                **kwargs,
            )
        kwargs = remove_args(["input_path", "timeout", "startup_timeout", "cwd"], **kwargs)
        final = merge_kwargs(
            kwargs,
            timeout=execution_timeout,
            startup_timeout=start_timeout,
            kernel_name=kernel_name,
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
        )
        return _WarmClient(nb_man, warm, **final).execute()


papermill_engines.register(ENGINE, _Engine)
