"""Notebook widgets: the visual mapper and the executions dashboard.

Each widget is a Python class with synced traitlets and a hand-written ES module
in ``static/`` shipped inside the package (no bundler, no npm step at install).
The editing logic lives in plain modules (``mapping_ops``, ``preview``, ``trees``)
so it is tested without a browser; the ES modules only draw and send intents.
Importing this package does not import anywidget: the widget modules do, when a
widget is created.
"""
