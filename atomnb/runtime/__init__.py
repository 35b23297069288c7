"""Layer 8a, runtime: the atom's workers. Never imports web.

Owns executing process notebooks (papermill in a real kernel, secrets through
the kernel's environment, output notebooks scrubbed) and writing their records.
Later: the kernel pool, scheduler, listeners and worker loop.
"""

from atomnb.runtime.executor import PapermillExecutor, RunRequest

__all__ = ["PapermillExecutor", "RunRequest"]
