"""Low-latency processes: a deployed process loaded once into warm worker processes.

Its set-up cells (imports, components, connections, parameters with the
environment's values and secrets) run once per worker; the cells from the first
one tagged ``per-message`` on run for every request. No execution record, no
output notebook, no trace: counts, latency and errors are aggregated per process
(``stats``). See ``modes`` for what each process mode keeps and ``worker`` for what
may and may not carry over between requests.
"""

from atomnb.runtime.lowlatency.load import LoadFailed, WorkerLoad, prepare_load
from atomnb.runtime.lowlatency.modes import (
    MODES,
    PER_MESSAGE_TAG,
    ProcessSettings,
    process_settings,
)
from atomnb.runtime.lowlatency.pool import RETRY_AFTER_S, Busy, Outcome, Pool
from atomnb.runtime.lowlatency.stats import ProcessStats

__all__ = [
    "MODES",
    "PER_MESSAGE_TAG",
    "RETRY_AFTER_S",
    "Busy",
    "LoadFailed",
    "Outcome",
    "Pool",
    "ProcessSettings",
    "ProcessStats",
    "WorkerLoad",
    "prepare_load",
    "process_settings",
]
