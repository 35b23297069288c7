"""Layer 8b, web: pages rendered from store records. Never imports runtime.

The atom's dashboard and execution pages (``atomnb.web.dashboard``): HTML from
metadata only, no scripts or remote assets. The HTTP API that serves them,
and acts on the atom, is ``atomnb.atom.api``.
"""
