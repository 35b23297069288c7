"""atomnb: an integration workbench that lives in Jupyter.

The public contract, importable as ``import atomnb as ab``. Names load lazily on
first use, so ``import atomnb`` stays cheap and never pulls in papermill, the
Jupyter stack or a web server.
"""

import importlib as _importlib
import typing as _typing

__version__ = "0.1.0"

if _typing.TYPE_CHECKING:
    from atomnb.atom.molecule.maps import map_partitions
    from atomnb.atom.remote import deploy, rollback, trigger, undeploy
    from atomnb.b2b.as2.send import send_as2
    from atomnb.b2b.inbound import acknowledge, receive_b2b
    from atomnb.b2b.outbound import envelope_b2b
    from atomnb.b2b.start import partner_start
    from atomnb.components import Workspace
    from atomnb.connectors.connections import connection, list_connections, test_connection
    from atomnb.documents import Documents, DocumentStream, Rejection
    from atomnb.errors import AtomnbError
    from atomnb.formats import infer_profile, read, read_stream, write
    from atomnb.maps import Map, Rule, Step, load_map
    from atomnb.nb.widgets.dashboard import dashboard
    from atomnb.nb.widgets.mapper import MapperWidget, mapper
    from atomnb.process.context import ExecutionContext, context
    from atomnb.process.map_cases import save_map_case
    from atomnb.process.run import current_run, persist_property, persisted_property
    from atomnb.process.shapes import (
        DocumentCache,
        ProcessException,
        StopProcess,
        branch,
        business_rules,
        cleanse,
        combine,
        custom,
        database_query,
        database_write,
        decision,
        document_cache,
        exception,
        file_get,
        file_put,
        find_changes,
        get_property,
        http_call,
        map,
        message,
        notify,
        parse_documents,
        process_call,
        raw_documents,
        return_documents,
        route,
        search_replace,
        set_document_properties,
        set_process_properties,
        split,
        start,
        stop,
        track,
        try_catch,
        unzip_documents,
        zip_documents,
    )
    from atomnb.profiles import (
        DriftReport,
        Element,
        ElementType,
        Profile,
        ValidationReport,
        drift,
        load_profile,
        validate,
    )

_LAZY: dict[str, str] = {
    "acknowledge": "atomnb.b2b.inbound",
    "receive_b2b": "atomnb.b2b.inbound",
    "partner_start": "atomnb.b2b.start",
    "envelope_b2b": "atomnb.b2b.outbound",
    "database_query": "atomnb.process.shapes",
    "database_write": "atomnb.process.shapes",
    "http_call": "atomnb.process.shapes",
    "file_get": "atomnb.process.shapes",
    "file_put": "atomnb.process.shapes",
    "connection": "atomnb.connectors.connections",
    "list_connections": "atomnb.connectors.connections",
    "test_connection": "atomnb.connectors.connections",
    "process_call": "atomnb.process.shapes",
    "track": "atomnb.process.shapes",
    "business_rules": "atomnb.process.shapes",
    "cleanse": "atomnb.process.shapes",
    "combine": "atomnb.process.shapes",
    "custom": "atomnb.process.shapes",
    "find_changes": "atomnb.process.shapes",
    "message": "atomnb.process.shapes",
    "parse_documents": "atomnb.process.shapes",
    "raw_documents": "atomnb.process.shapes",
    "send_as2": "atomnb.b2b.as2.send",
    "search_replace": "atomnb.process.shapes",
    "split": "atomnb.process.shapes",
    "unzip_documents": "atomnb.process.shapes",
    "zip_documents": "atomnb.process.shapes",
    "DocumentCache": "atomnb.process.shapes",
    "ProcessException": "atomnb.process.shapes",
    "StopProcess": "atomnb.process.shapes",
    "branch": "atomnb.process.shapes",
    "decision": "atomnb.process.shapes",
    "document_cache": "atomnb.process.shapes",
    "exception": "atomnb.process.shapes",
    "get_property": "atomnb.process.shapes",
    "map": "atomnb.process.shapes",
    "notify": "atomnb.process.shapes",
    "return_documents": "atomnb.process.shapes",
    "route": "atomnb.process.shapes",
    "set_document_properties": "atomnb.process.shapes",
    "set_process_properties": "atomnb.process.shapes",
    "start": "atomnb.process.shapes",
    "stop": "atomnb.process.shapes",
    "try_catch": "atomnb.process.shapes",
    "current_run": "atomnb.process.run",
    "save_map_case": "atomnb.process.map_cases",
    "map_partitions": "atomnb.atom.molecule.maps",
    "mapper": "atomnb.nb.widgets.mapper",
    "MapperWidget": "atomnb.nb.widgets.mapper",
    "dashboard": "atomnb.nb.widgets.dashboard",
    "deploy": "atomnb.atom.remote",
    "rollback": "atomnb.atom.remote",
    "trigger": "atomnb.atom.remote",
    "undeploy": "atomnb.atom.remote",
    "persist_property": "atomnb.process.run",
    "persisted_property": "atomnb.process.run",
    "AtomnbError": "atomnb.errors",
    "Element": "atomnb.profiles",
    "Map": "atomnb.maps",
    "Rule": "atomnb.maps",
    "Step": "atomnb.maps",
    "load_map": "atomnb.maps",
    "ElementType": "atomnb.profiles",
    "Profile": "atomnb.profiles",
    "Rejection": "atomnb.documents",
    "ValidationReport": "atomnb.profiles",
    "infer_profile": "atomnb.formats",
    "load_profile": "atomnb.profiles",
    "validate": "atomnb.profiles",
    "drift": "atomnb.profiles",
    "DriftReport": "atomnb.profiles",
    "DocumentStream": "atomnb.documents",
    "Documents": "atomnb.documents",
    "ExecutionContext": "atomnb.process.context",
    "Workspace": "atomnb.components",
    "context": "atomnb.process.context",
    "read": "atomnb.formats",
    "read_stream": "atomnb.formats",
    "write": "atomnb.formats",
}

__all__ = [
    "AtomnbError",
    "DocumentCache",
    "DocumentStream",
    "Documents",
    "DriftReport",
    "Element",
    "ElementType",
    "ExecutionContext",
    "Map",
    "MapperWidget",
    "ProcessException",
    "Profile",
    "Rejection",
    "Rule",
    "Step",
    "StopProcess",
    "ValidationReport",
    "Workspace",
    "__version__",
    "acknowledge",
    "branch",
    "business_rules",
    "cleanse",
    "combine",
    "connection",
    "context",
    "current_run",
    "custom",
    "dashboard",
    "database_query",
    "database_write",
    "decision",
    "deploy",
    "document_cache",
    "drift",
    "envelope_b2b",
    "exception",
    "file_get",
    "file_put",
    "find_changes",
    "get_property",
    "http_call",
    "infer_profile",
    "list_connections",
    "load_ipython_extension",
    "load_map",
    "load_profile",
    "map",
    "map_partitions",
    "mapper",
    "message",
    "notify",
    "parse_documents",
    "partner_start",
    "persist_property",
    "persisted_property",
    "process_call",
    "raw_documents",
    "read",
    "read_stream",
    "receive_b2b",
    "return_documents",
    "rollback",
    "route",
    "save_map_case",
    "search_replace",
    "send_as2",
    "set_document_properties",
    "set_process_properties",
    "split",
    "start",
    "stop",
    "test_connection",
    "track",
    "trigger",
    "try_catch",
    "undeploy",
    "unload_ipython_extension",
    "unzip_documents",
    "validate",
    "write",
    "zip_documents",
]


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext atomnb`` (the notebook front end loads only when asked for)."""
    from atomnb.nb.commands import use_atom_actions
    from atomnb.nb.extension import load_ipython_extension as load

    load(ipython)
    # %atomnb deploy / trigger / rollback / undeploy: the notebook layer may not import the
    # atom's, so they meet here
    use_atom_actions(
        **{name: _remote(name) for name in ("deploy", "trigger", "rollback", "undeploy")}
    )


def _remote(name: str) -> _typing.Callable[..., object]:
    def call(*args: object, **kwargs: object) -> object:
        function = getattr(_importlib.import_module("atomnb.atom.remote"), name)
        return function(*args, **kwargs)

    return call


def unload_ipython_extension(ipython: object) -> None:
    from atomnb.nb.extension import unload_ipython_extension as unload

    unload(ipython)


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'atomnb' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
