"""Layer 2, profiles: the structure of documents (a typed element tree), as components.

Will own the Profile/Element model, type detection, inference from Documents,
validation with errors naming document, path and rule, and conversion to Arrow
schema and JSON Schema. Sits below formats: formats read and write *with* a profile.
"""
