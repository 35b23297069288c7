"""Layer 3, formats: bytes to Documents and back, with no knowledge of connectors.

Owns the ``Format`` protocol, the lazy format registry and one module per format
(JSON and delimited text so far). ``read``/``read_stream``/``write`` are the
public entry points.
"""

from atomnb.formats.api import infer_profile, read, read_stream, write
from atomnb.formats.base import FILE_PROPERTY, Format, Source
from atomnb.formats.registry import FormatRegistry, default_registry

__all__ = [
    "FILE_PROPERTY",
    "Format",
    "FormatRegistry",
    "Source",
    "default_registry",
    "infer_profile",
    "read",
    "read_stream",
    "write",
]
