"""Assure: recorded test cases of processes and maps, replayed by pytest (``pytest --atomnb``)."""
