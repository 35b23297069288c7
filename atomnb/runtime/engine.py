"""A papermill engine that runs a notebook on an already started kernel.

papermill's own engine always starts a kernel, which costs most of a short
run. This engine takes a ``WarmKernel`` (passed through ``execute_notebook``'s
engine keyword arguments) and hands its manager and connected client to
papermill's notebook client, so everything else — cell-by-cell saving, error
tagging, the output notebook's metadata — stays papermill's.
"""

from __future__ import annotations

from typing import Any

from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.utils import merge_kwargs, remove_args

from atomnb.runtime.warm import WarmKernel

__all__ = ["WARM_ENGINE"]

WARM_ENGINE = "atomnb-warm"


class _WarmClient(PapermillNotebookClient):  # type: ignore[misc]
    def __init__(self, nb_man: Any, warm: WarmKernel, **kwargs: Any) -> None:
        super().__init__(nb_man, km=warm.manager, **kwargs)
        self.kc = warm.client  # connected already: setup_kernel skips starting one


class _WarmEngine(NBClientEngine):  # type: ignore[misc]
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
        warm = kwargs.pop("warm_kernel")
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


papermill_engines.register(WARM_ENGINE, _WarmEngine)
