"""One atom's observability: request tallies and their flusher, the trace exporter, JSON logs.

``observability(atom)`` is made on first use and lives as long as the atom; the
atom starts and stops it with itself (``start``/``stop``), its workers call
``execution_ended`` when an execution is over, and the API counts requests and
serves ``/metrics`` through it. Nothing here may fail an execution or a
request: an exporter that cannot reach its collector only logs.
"""

from __future__ import annotations

import logging
import threading
import weakref
from datetime import timedelta
from typing import TYPE_CHECKING

from atomnb.atom.observe.logs import configure_logging, log_format_chosen
from atomnb.atom.observe.requests import Flusher, RequestRecorder
from atomnb.atom.observe.tracing import ExecutionTracer, traces_endpoint
from atomnb.store import ExecutionRecord
from atomnb.store.http_stats import HttpStats

if TYPE_CHECKING:
    from atomnb.atom.service.state import AtomState as Atom

__all__ = ["Observability", "observability"]

log = logging.getLogger("atomnb.atom.observe")

_HUBS: weakref.WeakKeyDictionary[Atom, Observability] = weakref.WeakKeyDictionary()
_HUBS_LOCK = threading.Lock()


def observability(atom: Atom) -> Observability:
    """The atom's observability, made on first use."""
    with _HUBS_LOCK:
        hub = _HUBS.get(atom)
        if hub is None:
            hub = _HUBS[atom] = Observability(atom)
        return hub


class Observability:
    """What one atom measures and exports about itself."""

    def __init__(self, atom: Atom) -> None:
        self.atom = atom
        self.recorder = RequestRecorder(atom.id)
        self.flusher = Flusher(
            self.recorder,
            HttpStats(atom.store),
            retention=timedelta(days=atom.settings.retention_days),
        )
        self.tracer: ExecutionTracer | None = None
        self._started = False

    def start(self) -> None:
        """Logs as the settings say (unless the command line chose), the flusher, the exporter."""
        if log_format_chosen() is None:
            configure_logging(self.atom.settings.log_format)
        endpoint = traces_endpoint(self.atom.settings.otlp_endpoint)
        if endpoint is not None:
            self.tracer = ExecutionTracer(
                self.atom.id,
                endpoint,
                self.atom.home.executions_dir,
                self.atom.home.remote_outputs,
            )
            log.info("exporting execution traces over OTLP to %s", endpoint or "$OTEL_EXPORTER_*")
        self.flusher.start()
        self._started = True

    def stop(self) -> None:
        """Write the last request counts and send the last spans (before the store closes)."""
        if not self._started:
            return
        self._started = False
        self.flusher.stop()
        if self.tracer is not None:
            try:
                self.tracer.shutdown()
            except Exception:
                log.warning("could not send the last execution traces", exc_info=True)

    def execution_ended(self, record: ExecutionRecord) -> None:
        """Log the end of an execution and export its trace (when tracing is on); never raises."""
        try:
            final = self.atom.store.get(record.id)  # as the executor left it
        except Exception:
            final = record
        duration = f" in {final.duration_s:.1f} s" if final.duration_s is not None else ""
        log.info(
            "execution %s of %s ended: %s%s",
            final.id,
            final.process,
            final.status.value,
            duration,
            extra={"execution_id": final.id},
        )
        if self.tracer is None:
            return
        try:
            self.tracer.export(self.atom.store, final)
        except Exception:
            log.warning(
                "could not build the trace of execution %s",
                final.id,
                exc_info=True,
                extra={"execution_id": final.id},
            )
