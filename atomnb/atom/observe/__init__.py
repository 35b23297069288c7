"""The atom's observability: ``/metrics``, HTTP request statistics, execution traces, JSON logs.

- ``collector``: the Prometheus collector behind ``/metrics`` (read at scrape time);
- ``requests``: listener and API requests counted in memory, flushed to ``http_requests``;
- ``tracing``: one OpenTelemetry trace per execution, exported over OTLP/HTTP;
- ``logs``: the atom's log lines as JSON objects, when asked;
- ``hub``: one atom's share of all of it, started and stopped with the atom.
"""

from atomnb.atom.observe.hub import Observability, observability

__all__ = ["Observability", "observability"]
