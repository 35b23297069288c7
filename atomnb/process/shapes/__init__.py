"""Shapes: the vocabulary of a process, as functions over Documents that record a trace."""

from atomnb.process.shapes.cache import DocumentCache, document_cache
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
from atomnb.process.shapes.mapping import map
from atomnb.process.shapes.routing import branch, decision, route

__all__ = [
    "ERROR_MESSAGE",
    "ERROR_TYPE",
    "DocumentCache",
    "ProcessException",
    "StopProcess",
    "branch",
    "decision",
    "document_cache",
    "exception",
    "get_property",
    "map",
    "notify",
    "return_documents",
    "route",
    "set_document_properties",
    "set_process_properties",
    "start",
    "stop",
    "try_catch",
]
