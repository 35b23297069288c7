"""Shapes: the vocabulary of a process, as functions over Documents that record a trace."""

from atomnb.process.shapes.archive import unzip_documents, zip_documents
from atomnb.process.shapes.cache import DocumentCache, document_cache
from atomnb.process.shapes.call import process_call
from atomnb.process.shapes.connect import (
    database_query,
    database_write,
    file_get,
    file_put,
    http_call,
)
from atomnb.process.shapes.control import (
    ERROR_MESSAGE,
    ERROR_TYPE,
    ProcessException,
    StopProcess,
    exception,
    get_property,
    notify,
    return_documents,
    set_document_properties,
    set_process_properties,
    start,
    stop,
    try_catch,
)
from atomnb.process.shapes.data import (
    CONTENT,
    combine,
    custom,
    message,
    parse_documents,
    raw_documents,
    search_replace,
    split,
)
from atomnb.process.shapes.mapping import map
from atomnb.process.shapes.quality import (
    CLEANSE_ERRORS,
    CLEANSE_REPAIRED,
    RULES_FAILED,
    business_rules,
    cleanse,
    find_changes,
)
from atomnb.process.shapes.routing import branch, decision, route
from atomnb.process.shapes.tracking import track

__all__ = [
    "CLEANSE_ERRORS",
    "CLEANSE_REPAIRED",
    "CONTENT",
    "ERROR_MESSAGE",
    "ERROR_TYPE",
    "RULES_FAILED",
    "DocumentCache",
    "ProcessException",
    "StopProcess",
    "branch",
    "business_rules",
    "cleanse",
    "combine",
    "custom",
    "database_query",
    "database_write",
    "decision",
    "document_cache",
    "exception",
    "file_get",
    "file_put",
    "find_changes",
    "get_property",
    "http_call",
    "map",
    "message",
    "notify",
    "parse_documents",
    "process_call",
    "raw_documents",
    "return_documents",
    "route",
    "search_replace",
    "set_document_properties",
    "set_process_properties",
    "split",
    "start",
    "stop",
    "track",
    "try_catch",
    "unzip_documents",
    "zip_documents",
]
