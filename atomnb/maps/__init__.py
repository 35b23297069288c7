"""Layer 5b, maps: field mappings from one profile to another. Independent of connectors.

Owns the map component (rules: sources → function chain → target, hierarchy by
aggregates, repeating targets and fan-out), its function library (vectorized
polars builds with per-record twins), the compiler to a vectorized plan with
per-document error capture, and running it batch by batch.
"""

from atomnb.maps.apply import apply_map
from atomnb.maps.compile import check_map, compile_map
from atomnb.maps.component import load_map, save_map
from atomnb.maps.functions.registry import MapFunction, function_library
from atomnb.maps.model import Map, Rule, Step
from atomnb.maps.record import RecordContext, map_record
from atomnb.maps.xref import XrefTable, load_xref, save_xref

__all__ = [
    "Map",
    "MapFunction",
    "RecordContext",
    "Rule",
    "Step",
    "XrefTable",
    "apply_map",
    "check_map",
    "compile_map",
    "function_library",
    "load_map",
    "load_xref",
    "map_record",
    "save_map",
    "save_xref",
]
