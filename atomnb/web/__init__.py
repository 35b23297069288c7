"""Layer 8b, web: the atom's HTTP API and dashboards. Never imports runtime.

Will talk to the runtime only through store rows: reads execution records, and
"run now" inserts an execution request that a worker claims.
"""
