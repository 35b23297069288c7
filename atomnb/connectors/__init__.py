"""Layer 5a, connectors: reaching systems (HTTP, databases, files). Independent of maps.

Owns connections (where a system is, how to authenticate, by secret reference)
and their operations. So far: databases (``atomnb.connectors.sql``: query,
insert, upsert, update, delete with per-row rejections) and HTTP/REST
(``atomnb.connectors.http``: auth by secret reference, paging, retries honouring
Retry-After, an egress policy). Every connector accepts and returns Documents.
Import the sub-modules directly; this package stays light.
"""
