"""``pytest --nbval-lax notebooks/`` runs the example process notebooks, not the tutorials.

Run in place, a tutorial saves components into the workspace (profiles, a map, a
connection whose URL is relative to where it ran), runs executions in its store and,
when an atom is configured, deploys to it and waits for a scheduled run. They are run
on a copy of the workspace by tests/test_tutorial_path.py instead.
"""

collect_ignore = ["tutorials"]
