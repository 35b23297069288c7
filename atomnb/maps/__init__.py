"""Layer 5b, maps: field mappings from one profile to another. Independent of connectors.

Will own the map component, its typed function library, and the compiler from a
map to a vectorized plan over Arrow columns with per-document error capture.
"""
