"""What an atom says of its host with each heartbeat: CPU, memory, the disk of its home."""

from __future__ import annotations

import logging
from typing import Any

from atomnb.store import utcnow

__all__ = ["host_resources"]

log = logging.getLogger("atomnb.atom.service")


def host_resources(path: str) -> dict[str, Any] | None:
    """The host's CPU (% since the last call), memory, and the disk holding ``path``."""
    try:
        import psutil  # type: ignore[import-untyped]

        memory = psutil.virtual_memory()
        disk = psutil.disk_usage(path)
        return {
            "cpu_percent": float(psutil.cpu_percent(interval=None)),
            "memory_used": int(memory.total - memory.available),
            "memory_total": int(memory.total),
            "memory_percent": float(memory.percent),
            "disk_used": int(disk.used),
            "disk_total": int(disk.total),
            "disk_percent": float(disk.percent),
            "disk_path": path,
            "measured_at": utcnow().isoformat(),
        }
    except Exception:  # a host that will not say: the heartbeat goes on without it
        log.debug("cannot read the host's resources", exc_info=True)
        return None
