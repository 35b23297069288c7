"""Layer 8b, web: pages rendered from store records. Never imports runtime.

The operations console (``atomnb.web.console``) and the records pages: HTML from
metadata only, no scripts or remote assets. The HTTP API that serves them,
and acts on the atom, is ``atomnb.atom.api``.
"""
