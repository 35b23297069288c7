"""X12 EDI: interchanges read as one document per transaction set, and written back.

Document shape (one row per transaction set, every value a string as in the file)::

    transaction_set   "850"
    ST                {"ST01": "850", "ST02": "000000010"}
    BEG               {"BEG01": "00", "BEG02": "SA", "BEG03": "08292233294", "BEG04": "", ...}
    REF               [{"REF01": "DP", "REF02": "038"}, {"REF01": "PS", "REF02": "R"}]
    N1_loop           [{"N1": {...}, "N3": [{...}], "N4": {...}}]
    PO1_loop          [{"PO1": {...}, "PID_loop": [{"PID": {...}}], "PO4": [{...}]}]
    CTT_loop          {"CTT": {"CTT01": "6"}, "AMT": {...}}

Columns follow the transaction set's definition (``definitions/<id>.json``): a
segment or loop used at most once is a struct, a repeating one a list of
structs, and loops are named ``<first segment>_loop``. Element ``n`` of segment
``XX`` is ``XXnn``; an element holding components becomes ``XXnn_01``,
``XXnn_02``...; an element the definition marks repeating (ISA11's separator,
005010 on) is a list of its repetitions, and when it is a composite
``XXnn_01``... are lists too, component ``mm`` of each repetition. A
present-but-empty element is ``""`` and an element the segment lacks is null,
so trailing empty elements round-trip. A set with no definition (e.g. an 837) is
read generically: ``segments`` = ``[{"id": "NM1", "elements": ["85", "2", ...]}]``.
With ``strict=False`` a segment the definition does not allow is kept in
``unknown`` (``{"position", "id", "elements"}``) instead of rejecting the set.

Document properties (the envelope; ``write`` rebuilds ISA/GS/GE/IEA from them):
``file_name``, ``x12.isa`` and ``x12.gs`` (the segments' text),
``x12.delimiters`` (element, component, repetition, segment, line_ending,
after_interchange), ``x12.interchange_control_number``,
``x12.group_control_number``, ``x12.transaction_set_control_number``,
``x12.sender_id``, ``x12.receiver_id``, ``x12.version`` (GS08),
``x12.functional_id`` (GS01).

Read options: ``on_error`` ("reject": a bad set becomes a ``Rejection`` with its
original bytes and the rest go on; "raise": ``ValidationErrorGroup`` with every
problem, at the end of the file), ``strict`` (default True), ``encoding``
(default utf-8), ``definitions`` ({id: JSON body} to add or replace definitions),
``counts`` ("reject" by default; "mark": a set whose only fault is a trailer count
that does not match — SE01, GE01, IEA01 — is delivered with the problem in
``x12.problems``, so acknowledgements report it and a partner policy decides).
Write options (for documents without envelope properties): ``sender_id``,
``receiver_id``, ``interchange_control_number``, ``group_control_number``,
``sender_qualifier``/``receiver_qualifier`` ("ZZ"), ``version`` ("004010"),
``functional_id`` (from the set id), ``usage`` ("P"), ``date``, and the
delimiters ``element``/``component``/``segment``/``repetition``/``line_ending``.

>>> import atomnb as ab
>>> docs = ab.read("tests/samples/x12/node-x12_850.edi", format="x12")  # doctest: +SKIP
>>> docs[0]["BEG"]["BEG03"]  # doctest: +SKIP
'08292233294'
"""

from atomnb.formats.x12.format import X12Format

__all__ = ["X12Format"]
