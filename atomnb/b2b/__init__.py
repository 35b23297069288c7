"""B2B: trading partners, acknowledgements, control numbers and AS2 (issue 16).

It sits above the store (control numbers and duplicate detection are durable
there) and below the runtime and the atom, which receive and send for it.
"""
