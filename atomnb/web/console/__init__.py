"""The operations console's pages: server-rendered HTML from store rows.

``layout`` is the frame every console page shares (nav bar, user, CSS) and the
formatting helpers for people (durations, times, counts, status badges). The
pages themselves (overview, processes, HTTP status, executions, deployments,
audit) live beside it, one module each; the routes that serve them are in
``atomnb.atom.api``.
"""
