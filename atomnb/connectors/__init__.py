"""Layer 5a, connectors: reaching systems (HTTP, databases, files). Independent of maps.

Owns connections (where a system is, how to authenticate, by secret reference)
and their operations: databases (``atomnb.connectors.sql``: query, insert,
upsert, update, delete with per-row rejections), HTTP/REST
(``atomnb.connectors.http``: auth by secret reference, paging, retries honouring
Retry-After, an egress policy) and files (``atomnb.connectors.files``: local,
SFTP, FTP/FTPS and S3 over fsspec; get by glob, put by name pattern, archive,
done-files, hostile names refused). Every connector accepts and returns Documents.

Around them: ``base`` (the small contract every connector meets, and
``ConnectionTest``), ``registry`` (connectors by name, built-ins and the
``atomnb.connectors`` entry point group), ``conformance`` (the kit a plugin
author runs) and ``connections`` (connection components with environment
overrides). Import the sub-modules directly; this package stays light.
"""
