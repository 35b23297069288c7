"""String functions: concat, substring, trim, case, padding, replace, regex, split, to_text.

Common rules (the visual mapper shows them in each description):

* a missing input (null) gives a missing result, never an error; an empty string
  stays an empty string (``is_empty`` / ``default`` in ``logic`` treat "" as empty);
* positions and lengths count Unicode code points (``Zoë`` has length 3), the same in
  polars and Python;
* case mapping is full Unicode (``"ß".upper()`` is ``"SS"``, in polars and Python);
* regular expressions use the Rust ``regex`` syntax polars runs (no look-around, no
  back-references); replacements name groups as ``$1`` or ``${name}``.

The functions live in three parts, by job: ``strings_edit`` (concat, case,
substring/left/right, trim, pad), ``strings_match`` (replace, regular expressions,
split) and ``strings_value`` (length, to_text). Importing this module registers
them all, in that order (the order the visual mapper lists them); their names sort
in that order too, so keep it when adding a part. This stays the public path.
"""

from __future__ import annotations

from atomnb.maps.functions import strings_edit, strings_match, strings_value
from atomnb.maps.functions.strings_edit import WHITESPACE
from atomnb.maps.functions.strings_value import _to_text_py

__all__ = ["WHITESPACE", "_to_text_py", "strings_edit", "strings_match", "strings_value"]
