"""Layer 5a, connectors: reaching systems (HTTP, databases, files). Independent of maps.

Will own connections (where a system is, how to authenticate, by secret
reference), operations with request/response profiles, and the lazy connector
registry. Every connector accepts and returns Documents.
"""
