"""Layer 9, the atom: where saved process notebooks run unattended.

Owns deployment packages and versions, the scheduler (cron fire times claimed
in the store, catch-up after downtime), the queue and its workers (one warm
kernel each), retries, timeouts and cancels, crash recovery, notifications,
retention, and the HTTP API the CLI and dashboard use. Optional: nothing
below it imports it. Import the sub-modules directly.
"""
