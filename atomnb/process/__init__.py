"""Layer 6, process: the saved notebook as a process.

Owns loading a process notebook, reading its ``parameters`` cell, and typing and
layering runtime parameter values. Later: shapes over Documents and the
execution trace.
"""

from atomnb.process.notebook import Parameter, ProcessNotebook, load_process
from atomnb.process.parameters import (
    REDACTED,
    coerce,
    filter_declared,
    redact,
    resolve_parameters,
)

__all__ = [
    "REDACTED",
    "Parameter",
    "ProcessNotebook",
    "coerce",
    "filter_declared",
    "load_process",
    "redact",
    "resolve_parameters",
]
