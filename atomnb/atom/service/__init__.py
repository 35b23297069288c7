"""The atom service, split by job: requests, workers, recovery, control, life cycle."""

from atomnb.atom.service.atom import Atom
from atomnb.atom.service.state import MAX_QUEUED_PER_PROCESS, MAX_RETRY_DELAY_S

__all__ = ["MAX_QUEUED_PER_PROCESS", "MAX_RETRY_DELAY_S", "Atom"]
