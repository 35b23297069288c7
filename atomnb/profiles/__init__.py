"""Layer 2, profiles: the structure of documents (a typed element tree), as components.

Owns the Profile/Element model, type detection, inference from Documents,
validation with errors naming document, path and rule, drift reports
(counts and paths of what no longer fits, never values), applying a profile's
types to text, conversion to an Arrow schema and JSON Schema, and profile
component files. Sits below formats: formats read and write *with* a profile.
"""

from atomnb.profiles.apply import apply_profile
from atomnb.profiles.component import load_profile, save_profile
from atomnb.profiles.convert import arrow_type, to_arrow_schema, to_json_schema
from atomnb.profiles.drift import DriftReport, drift
from atomnb.profiles.drift_collect import DriftCollector, collecting_drift
from atomnb.profiles.infer import infer_profile
from atomnb.profiles.model import UNBOUNDED, Element, ElementType, Profile
from atomnb.profiles.validate import ERRORS_PROPERTY, ValidationReport, validate

__all__ = [
    "ERRORS_PROPERTY",
    "UNBOUNDED",
    "DriftCollector",
    "DriftReport",
    "Element",
    "ElementType",
    "Profile",
    "ValidationReport",
    "apply_profile",
    "arrow_type",
    "collecting_drift",
    "drift",
    "infer_profile",
    "load_profile",
    "save_profile",
    "to_arrow_schema",
    "to_json_schema",
    "validate",
]
