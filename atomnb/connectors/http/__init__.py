"""The HTTP/REST connector: connections, operations, auth, paging, retries, egress policy.

A connection says where a system is and how to reach it (auth by secret
reference, timeouts, TLS with CA bundles and client certificates, proxies,
retry and egress policies); an operation says what to call, which profiles the
documents going out and coming back must fit, and how bodies are written and
read (JSON, XML, CSV). ``operation.call(connection, documents)``
returns Documents, with failing documents kept as rejections.
"""

from atomnb.connectors.http.auth import (
    ApiKeyAuth,
    Auth,
    BasicAuth,
    BearerAuth,
    NoAuth,
    OAuth2ClientCredentials,
    auth_from_dict,
)
from atomnb.connectors.http.bodies import ResponseFormatError
from atomnb.connectors.http.connection import HttpConnection
from atomnb.connectors.http.egress import DestinationNotAllowedError, EgressPolicy
from atomnb.connectors.http.openapi import OpenApiOperation, OpenApiService, import_openapi
from atomnb.connectors.http.operation import HttpOperation
from atomnb.connectors.http.paging import Paging
from atomnb.connectors.http.retry import RetryPolicy, parse_retry_after
from atomnb.connectors.http.send import HttpStatusError, HttpTransientError

__all__ = [
    "ApiKeyAuth",
    "Auth",
    "BasicAuth",
    "BearerAuth",
    "DestinationNotAllowedError",
    "EgressPolicy",
    "HttpConnection",
    "HttpOperation",
    "HttpStatusError",
    "HttpTransientError",
    "NoAuth",
    "OAuth2ClientCredentials",
    "OpenApiOperation",
    "OpenApiService",
    "Paging",
    "ResponseFormatError",
    "RetryPolicy",
    "auth_from_dict",
    "import_openapi",
    "parse_retry_after",
]
