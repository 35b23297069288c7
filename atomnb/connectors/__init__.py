"""Layer 5a, connectors: reaching systems (HTTP, databases, files, event streams).

Owns connections (where a system is, how to authenticate, by secret reference)
and their operations: databases (``atomnb.connectors.sql``: query, insert,
upsert, update, delete with per-row rejections, write batches retried on
transient faults), HTTP/REST (``atomnb.connectors.http``: auth by secret
reference, TLS with CA bundles and client certificates, proxies, paging,
retries honouring Retry-After, an egress policy, request and response profiles
over JSON, XML and CSV bodies) and files (``atomnb.connectors.files``: local,
SFTP, FTP/FTPS and S3 over fsspec; get by glob, put by name pattern, archive,
done-files, hostile names refused) and event streams (``atomnb.connectors.streams``:
Redis Streams and NATS JetStream, produce, consume in groups, acknowledgement after the
run, dead letters). Every connector accepts and returns Documents. Independent of maps.

Around them: ``base`` (the small contract every connector meets, and
``ConnectionTest``), ``backoff`` (the jittered retry policy the connectors
share), ``registry`` (connectors by name, built-ins and the
``atomnb.connectors`` entry point group), ``conformance`` (the kit a plugin
author runs) and ``connections`` (connection components with environment
overrides). Import the sub-modules directly; this package stays light.
"""
