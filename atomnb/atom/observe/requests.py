"""HTTP request statistics: counted in memory per request, added to the store every few seconds.

``RequestCounter`` is an ASGI middleware: for each request to a listener
(``/listen/...``) or an API route (``/api/...``) it notes the route *template*
(``/listen/{process}``, so a thousand process names stay one route), the status
code it answered and how long it took. ``RequestRecorder`` keeps two tallies:
per minute, for the store's ``http_requests`` table (``Flusher`` adds them
every few seconds and at stop, so a request costs no store write), and since
start, for ``/metrics``. Pages, static files and ``/metrics`` itself are not
counted.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atomnb.store import utcnow
from atomnb.store.http_stats import HttpStats, MinuteCount, bucket_key, minute_of

__all__ = ["COUNTED_PREFIXES", "Flusher", "RequestCounter", "RequestRecorder", "RouteTotals"]

log = logging.getLogger("atomnb.atom.observe")

#: Routes whose requests are counted: listeners and the API.
COUNTED_PREFIXES = ("/listen/", "/api/")
#: Minutes kept in memory when the store cannot take them (then the oldest go).
MAX_PENDING_ROWS = 50_000


@dataclass
class RouteTotals:
    """Requests of one route and status since the atom started (for ``/metrics``)."""

    count: int = 0
    duration_sum_s: float = 0.0
    buckets: dict[str, int] = field(default_factory=dict)  # not cumulative, as in the store


class RequestRecorder:
    """Per-minute and since-start tallies of requests, safe to feed from any thread."""

    def __init__(self, atom_id: str) -> None:
        self.atom_id = atom_id
        self._lock = threading.Lock()
        self._minutes: dict[tuple[object, str, int], MinuteCount] = {}
        self._totals: dict[tuple[str, int], RouteTotals] = {}

    def observe(self, route: str, status: int, seconds: float) -> None:
        """Count one request (no I/O: the flusher writes)."""
        minute = minute_of(utcnow())
        with self._lock:
            key = (minute, route, status)
            row = self._minutes.get(key)
            if row is None:
                row = self._minutes[key] = MinuteCount(self.atom_id, minute, route, status)
            row.observe(seconds)
            totals = self._totals.setdefault((route, status), RouteTotals())
            totals.count += 1
            totals.duration_sum_s += seconds
            bucket = bucket_key(seconds)
            totals.buckets[bucket] = totals.buckets.get(bucket, 0) + 1

    def take(self) -> list[MinuteCount]:
        """The minutes counted since the last take (the caller writes them)."""
        with self._lock:
            rows, self._minutes = list(self._minutes.values()), {}
        return rows

    def give_back(self, rows: Sequence[MinuteCount]) -> None:
        """Minutes the store could not take: counted again with the next flush."""
        with self._lock:
            for row in rows:
                key = (row.minute, row.route, row.status)
                held = self._minutes.get(key)
                if held is None:
                    if len(self._minutes) < MAX_PENDING_ROWS:
                        self._minutes[key] = row
                    continue
                held.count += row.count
                held.duration_sum_s += row.duration_sum_s
                for bucket, n in row.buckets.items():
                    held.buckets[bucket] = held.buckets.get(bucket, 0) + n

    def totals(self) -> dict[tuple[str, int], RouteTotals]:
        """A copy of the since-start tallies, by (route, status)."""
        with self._lock:
            return {
                key: RouteTotals(t.count, t.duration_sum_s, dict(t.buckets))
                for key, t in self._totals.items()
            }


class Flusher:
    """Adds the recorder's minutes to the store every ``interval_s`` and at stop.

    It also drops minutes older than the atom's retention, once an hour.
    """

    def __init__(
        self,
        recorder: RequestRecorder,
        stats: HttpStats,
        *,
        interval_s: float = 5.0,
        retention: timedelta | None = None,
    ) -> None:
        self.recorder = recorder
        self.stats = stats
        self.interval_s = interval_s
        self.retention = retention
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_purge = 0.0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="atomnb-http-stats", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread, then write what is left (before the store closes)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.flush()

    def flush(self) -> None:
        rows = self.recorder.take()
        if not rows:
            return
        try:
            self.stats.add(rows)
        except Exception:  # a busy or broken store: keep the counts, try again later
            log.warning("could not record HTTP request counts; retrying", exc_info=True)
            self.recorder.give_back(rows)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.flush()
            if self.retention is not None and time.monotonic() - self._last_purge > 3600:
                self._last_purge = time.monotonic()
                try:
                    self.stats.purge(utcnow() - self.retention)
                except Exception:
                    log.warning("could not remove old HTTP request counts", exc_info=True)


class RequestCounter:
    """ASGI middleware counting listener and API requests by route template and status."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        recorder: RequestRecorder,
        routes: Callable[[], Sequence[BaseRoute]],
    ) -> None:
        self.app = app
        self.recorder = recorder
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith(COUNTED_PREFIXES):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers when the app raises before it starts a response
        counted = False

        def count() -> None:
            nonlocal counted
            if not counted:
                counted = True
                route = self._template(scope)
                if route is not None:
                    self.recorder.observe(route, status, time.perf_counter() - started)

        async def counting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                count()  # before the last byte goes: a client that has its answer sees it counted
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            count()

    def _template(self, scope: Scope) -> str | None:
        """The route's path template, e.g. ``/listen/{process}`` (None for no route)."""
        partial = None
        for route in self.routes():
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return str(getattr(route, "path", None) or "") or None
            if match is Match.PARTIAL and partial is None:  # the path fits, not the method
                partial = str(getattr(route, "path", None) or "") or None
        return partial
