"""What a UNE or UNZ trailer does to the messages it closes: trailer end, refusal or mark.

A control problem on the trailer (count, reference, missing trailer) refuses the
messages of that group or interchange still waiting for their batch, each with
its bytes, plus one rejection for the trailer itself. With ``counts="mark"`` a
count that does not match marks them instead (``edifact.problems``), and with
``on_error="warn"`` every trailer problem does. Messages of the group or
interchange delivered in an earlier batch can be neither refused nor marked: the
trailer's own rejection names how many there were, and carries the envelope's
properties and the problem's CONTRL code so an acknowledgement still reports it.
"""

from __future__ import annotations

from atomnb.documents import Rejection
from atomnb.errors import FormatError
from atomnb.formats.edifact.batch import COUNT_RULES, Pending, ReadState
from atomnb.formats.edifact.problems import as_dicts
from atomnb.formats.edifact.properties import envelope_properties
from atomnb.formats.edifact.structure import TrailerEnd

__all__ = ["on_trailer"]


def on_trailer(state: ReadState, end: TrailerEnd) -> None:
    """Apply one UNE/UNZ to the messages it closes (see the module doc)."""
    number = end.interchange.number
    covered: list[Pending] = []
    for pending in reversed(state.pending):  # the interchange's messages are the last ones
        if pending.interchange != number:
            break
        if end.group is None or pending.group is end.group:
            covered.append(pending)
    covered.reverse()
    if end.kind == "UNZ" and end.segment is not None:
        after = end.segment.after.decode("latin-1")
        for pending in covered:
            pending.own["edifact.trailer_end"] = after
    if not end.problems:
        return
    earlier = state.delivered_before(number, end.group)
    counted = [p for p in end.problems if state.mark_counts and p.rule in COUNT_RULES]
    if state.on_error == "warn" or len(counted) == len(end.problems):
        warnings = [f"{p.where}: {p.message}" for p in end.problems]
        for pending in covered:
            pending.warnings = [*pending.warnings, *warnings]
            pending.problems = [*pending.problems, *as_dicts(end.problems, None)]
        if earlier or not covered:  # else the problem would be on no message at all
            note = f"{earlier} message(s) of it were delivered in earlier batches unmarked"
            state.rejections.append(_trailer_rejection(end, note if earlier else ""))
        return
    if state.on_error == "raise":
        state.errors.extend(FormatError(p.message, where=p.where) for p in end.problems)
        return
    note = f"{earlier} message(s) of it were delivered in earlier batches" if earlier else ""
    state.rejections.append(_trailer_rejection(end, note))
    reason = "; ".join(p.message for p in end.problems)
    for pending in covered:
        state.pending.remove(pending)
        state.rejections.append(
            Rejection(
                message=f"refused with its {end.kind}: {reason}",
                where=end.problems[0].where,
                rule=",".join(p.rule for p in end.problems),
                index=pending.index,
                raw=pending.raw,
                problems=(*as_dicts(end.problems, None), *pending.problems),
                properties=pending.props,
            )
        )


def _trailer_rejection(end: TrailerEnd, note: str) -> Rejection:
    """The trailer's own rejection: its bytes, problems and the envelope it closes."""
    reason = "; ".join(p.message for p in end.problems)
    return Rejection(
        message=f"{reason} ({note})" if note else reason,
        where=end.problems[0].where,
        rule=",".join(p.rule for p in end.problems),
        raw=end.segment.raw if end.segment is not None else None,
        problems=tuple(as_dicts(end.problems, None)),
        properties=dict(envelope_properties(end.interchange, end.group, "latin-1")),
    )
