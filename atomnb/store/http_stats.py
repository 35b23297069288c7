"""HTTP request statistics: per-minute counts by atom, route and status, with latency buckets.

The atom counts its listener and API requests in memory and adds them here
every few seconds (``HttpStats.add``), so a request costs no store write. One
row holds one minute of one route template (``/listen/{process}``, never the
raw path) and one status code on one atom: how many requests, the sum of their
durations and how many fell in each latency bucket. Bucket counts are *not*
cumulative: ``{"0.005": 3, "0.01": 1, ..., "+Inf": 0}`` means three requests
took at most 5 ms and one took more than 5 and at most 10 ms, so rows add up
bucket by bucket.

The read functions are what the console's HTTP status page draws: requests by
status over a window, per minute or per hour (``requests_by_status``), totals
per route (``route_summaries``), and latency percentiles estimated from the
buckets (``latency``), the way Prometheus' ``histogram_quantile`` does: linear
interpolation inside the bucket the rank falls in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from atomnb.errors import StoreError
from atomnb.store.repository import ExecutionStore, as_utc
from atomnb.store.tables import http_requests

__all__ = [
    "LATENCY_BUCKETS",
    "HttpStats",
    "LatencySummary",
    "MinuteCount",
    "RouteSummary",
    "StatusPoint",
    "bucket_key",
    "minute_of",
    "quantile",
]

#: Upper bounds in seconds of the latency buckets (the last one, +Inf, is implied).
LATENCY_BUCKETS: tuple[float, ...] = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    300.0,
)
_INF = "+Inf"


def bucket_key(seconds: float) -> str:
    """The bucket a duration falls in, as stored: its upper bound (``"0.25"``) or ``"+Inf"``."""
    for bound in LATENCY_BUCKETS:
        if seconds <= bound:
            return _bound_text(bound)
    return _INF


def _bound_text(bound: float) -> str:
    return f"{bound:g}"


def _bound_value(key: str) -> float:
    return math.inf if key == _INF else float(key)


@dataclass
class MinuteCount:
    """One minute of one route and status on one atom, as counted in memory."""

    atom: str
    minute: datetime  # UTC, seconds and microseconds zero
    route: str
    status: int
    count: int = 0
    duration_sum_s: float = 0.0
    buckets: dict[str, int] = field(default_factory=dict)

    def observe(self, seconds: float) -> None:
        """Count one request that took ``seconds``."""
        self.count += 1
        self.duration_sum_s += seconds
        key = bucket_key(seconds)
        self.buckets[key] = self.buckets.get(key, 0) + 1


@dataclass(frozen=True)
class StatusPoint:
    """Requests answered with ``status`` in the minute or hour starting at ``at`` (UTC)."""

    at: datetime
    status: int
    count: int


@dataclass(frozen=True)
class LatencySummary:
    """Latency over a window; percentiles are None when nothing was requested."""

    count: int
    mean_s: float | None
    p50_s: float | None
    p95_s: float | None
    p99_s: float | None


@dataclass(frozen=True)
class RouteSummary:
    """One route over a window: requests per status class and its latency."""

    route: str
    count: int
    by_status: dict[int, int]
    latency: LatencySummary

    @property
    def errors(self) -> int:
        """Requests answered 5xx (the server's failures, not the caller's)."""
        return sum(n for status, n in self.by_status.items() if status >= 500)


def quantile(q: float, buckets: Mapping[str, int]) -> float | None:
    """Estimate the ``q`` quantile (0..1) from non-cumulative bucket counts.

    Linear interpolation inside the bucket where the rank falls, from the
    bucket's lower bound (0 for the first); a rank in ``+Inf`` answers the
    highest finite bound, as Prometheus does. None for no observations.
    """
    ordered = sorted((_bound_value(k), n) for k, n in buckets.items() if n)
    total = sum(n for _, n in ordered)
    if not total:
        return None
    rank = q * total
    seen = 0
    lower = 0.0
    for bound, n in ordered:
        if seen + n >= rank:
            if math.isinf(bound):
                return lower
            return lower + (bound - lower) * ((rank - seen) / n)
        seen += n
        lower = bound if not math.isinf(bound) else lower
    return lower


def _summary(count: int, duration_sum: float, buckets: Mapping[str, int]) -> LatencySummary:
    if not count:
        return LatencySummary(0, None, None, None, None)
    return LatencySummary(
        count,
        duration_sum / count,
        quantile(0.50, buckets),
        quantile(0.95, buckets),
        quantile(0.99, buckets),
    )


def _merge(into: dict[str, int], more: Mapping[str, int] | None) -> None:
    for key, n in (more or {}).items():
        into[key] = into.get(key, 0) + int(n)


class HttpStats:
    """The ``http_requests`` table (store schema 7): written by the atom, read by the console."""

    def __init__(self, store: ExecutionStore) -> None:
        self.engine = store.engine

    # -- writing ------------------------------------------------------------------------

    def add(self, counts: Iterable[MinuteCount]) -> None:
        """Add counted minutes to their rows, in one transaction (rows add up, never replace).

        Only the atom that counted a row writes it (the atom is in the key), so a
        read-then-write is safe; a row inserted meanwhile by a second writer of
        the same atom id is retried as an update.
        """
        batch = [c for c in counts if c.count]
        if not batch:
            return
        try:
            self._add(batch)
        except IntegrityError:
            self._add(batch)  # a concurrent insert of the same key: now it is an update
        except SQLAlchemyError as exc:
            raise _store_error("record HTTP request counts", exc) from None

    def _add(self, batch: Sequence[MinuteCount]) -> None:
        t = http_requests
        with self.engine.begin() as connection:
            for c in batch:
                key = (
                    t.c.atom == c.atom,
                    t.c.minute == c.minute,
                    t.c.route == c.route,
                    t.c.status == c.status,
                )
                row = connection.execute(
                    sa.select(t.c.count, t.c.duration_sum_s, t.c.buckets).where(*key)
                ).first()
                if row is None:
                    connection.execute(
                        t.insert().values(
                            atom=c.atom,
                            minute=c.minute,
                            route=c.route,
                            status=c.status,
                            count=c.count,
                            duration_sum_s=c.duration_sum_s,
                            buckets=dict(c.buckets),
                        )
                    )
                    continue
                buckets = dict(row[2] or {})
                _merge(buckets, c.buckets)
                connection.execute(
                    t.update()
                    .where(*key)
                    .values(
                        count=int(row[0]) + c.count,
                        duration_sum_s=float(row[1]) + c.duration_sum_s,
                        buckets=buckets,
                    )
                )

    def purge(self, older_than: datetime) -> int:
        """Delete the minutes before ``older_than``; returns how many rows went."""
        try:
            with self.engine.begin() as connection:
                result = connection.execute(
                    http_requests.delete().where(http_requests.c.minute < older_than)
                )
        except SQLAlchemyError as exc:
            raise _store_error("remove old HTTP request counts", exc) from None
        return int(result.rowcount or 0)

    # -- reading (the console's HTTP status page) ------------------------------------------

    def requests_by_status(
        self,
        since: datetime,
        until: datetime | None = None,
        *,
        step: Literal["minute", "hour"] = "minute",
        atom: str | None = None,
        route: str | None = None,
    ) -> list[StatusPoint]:
        """Requests per status code per minute (or hour) in ``[since, until)``, oldest first.

        Only periods with requests appear; a chart fills the gaps with zeros.
        """
        t = http_requests
        query = (
            sa.select(t.c.minute, t.c.status, sa.func.sum(t.c.count))
            .where(*self._window(since, until, atom, route))
            .group_by(t.c.minute, t.c.status)
        )
        totals: dict[tuple[datetime, int], int] = {}
        for minute, status, n in self._rows(query, "read HTTP request counts"):
            at = as_utc(minute)
            assert at is not None
            if step == "hour":
                at = at.replace(minute=0)
            totals[(at, int(status))] = totals.get((at, int(status)), 0) + int(n)
        return [StatusPoint(at, status, n) for (at, status), n in sorted(totals.items())]

    def latency(
        self,
        since: datetime,
        until: datetime | None = None,
        *,
        atom: str | None = None,
        route: str | None = None,
        status: int | None = None,
    ) -> LatencySummary:
        """Count, mean and p50/p95/p99 (seconds) of the requests in ``[since, until)``."""
        t = http_requests
        where = list(self._window(since, until, atom, route))
        if status is not None:
            where.append(t.c.status == status)
        query = sa.select(t.c.count, t.c.duration_sum_s, t.c.buckets).where(*where)
        count, duration, buckets = 0, 0.0, dict[str, int]()
        for n, seconds, row_buckets in self._rows(query, "read HTTP latencies"):
            count += int(n)
            duration += float(seconds)
            _merge(buckets, row_buckets)
        return _summary(count, duration, buckets)

    def route_summaries(
        self, since: datetime, until: datetime | None = None, *, atom: str | None = None
    ) -> list[RouteSummary]:
        """Each route requested in ``[since, until)``: counts per status, latency; busiest first."""
        t = http_requests
        query = sa.select(t.c.route, t.c.status, t.c.count, t.c.duration_sum_s, t.c.buckets).where(
            *self._window(since, until, atom, None)
        )
        per_route: dict[str, tuple[dict[int, int], list[float], dict[str, int]]] = {}
        for route, status, n, seconds, row_buckets in self._rows(query, "read HTTP routes"):
            by_status, duration, buckets = per_route.setdefault(route, ({}, [0.0], {}))
            by_status[int(status)] = by_status.get(int(status), 0) + int(n)
            duration[0] += float(seconds)
            _merge(buckets, row_buckets)
        summaries = [
            RouteSummary(
                route,
                sum(by_status.values()),
                dict(sorted(by_status.items())),
                _summary(sum(by_status.values()), duration[0], buckets),
            )
            for route, (by_status, duration, buckets) in per_route.items()
        ]
        return sorted(summaries, key=lambda s: (-s.count, s.route))

    def _window(
        self, since: datetime, until: datetime | None, atom: str | None, route: str | None
    ) -> list[sa.ColumnElement[bool]]:
        t = http_requests
        where = [t.c.minute >= _minute(since)]
        if until is not None:
            where.append(t.c.minute < until)
        if atom is not None:
            where.append(t.c.atom == atom)
        if route is not None:
            where.append(t.c.route == route)
        return where

    def _rows(self, query: sa.Select[Any], what: str) -> list[tuple[Any, ...]]:
        try:
            with self.engine.connect() as connection:
                return [tuple(row) for row in connection.execute(query)]
        except SQLAlchemyError as exc:
            raise _store_error(what, exc) from None


def _minute(at: datetime) -> datetime:
    """The start of ``at``'s minute (a window starting mid-minute includes that minute)."""
    return at.replace(second=0, microsecond=0)


def minute_of(at: datetime) -> datetime:
    """The minute a request at ``at`` (UTC) is counted in."""
    return _minute(at)


def _store_error(what: str, exc: SQLAlchemyError) -> StoreError:
    origin = getattr(exc, "orig", None)
    reason = str(origin).strip().splitlines()[0] if origin is not None else type(exc).__name__
    return StoreError(f"cannot {what}: {reason}")
