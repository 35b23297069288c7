"""Where each defined node of many documents lands, shared by the X12 and EDIFACT readers.

Both readers cache one placement plan per distinct segment sequence; documents that share
a plan are gathered from the distinct plans at once instead of concatenating one array
per document, which is what keeps many small documents fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]


class PlacementPlan(Protocol):
    """A cached plan: per placed segment its node, parent occurrence and segment offset."""

    node: Ints
    parent: Ints
    segment: Ints
    counts: Ints


@dataclass(frozen=True)
class Placed:
    """Every placed segment of a batch, sorted by node; ``bounds`` slices one node's rows."""

    node: Ints
    parent: Ints
    segment: Ints
    bounds: Ints
    counts: Ints


def ranges(starts: Ints, lengths: Ints) -> Ints:
    """Concatenated ``range(start, start + length)`` for each pair, without a Python loop."""
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    shift = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return shift + np.arange(total)


def place_plans(plans: Sequence[PlacementPlan], parent_of: Ints, body: Ints) -> Placed:
    """Gather the plans of ``len(plans)`` documents whose bodies start at ``body``."""
    count = len(plans)
    distinct: dict[int, int] = {}
    unique: list[PlacementPlan] = []
    which = np.empty(count, dtype=np.int64)
    for number, plan in enumerate(plans):
        k = distinct.get(id(plan))
        if k is None:
            k = distinct[id(plan)] = len(unique)
            unique.append(plan)
        which[number] = k
    unique_lengths = np.array([len(p.node) for p in unique], dtype=np.int64)
    unique_starts = np.cumsum(unique_lengths) - unique_lengths
    lengths = unique_lengths[which]
    gather = ranges(unique_starts[which], lengths)
    node = np.concatenate([p.node for p in unique])[gather]
    local_parent = np.concatenate([p.parent for p in unique])[gather]
    local_segment = np.concatenate([p.segment for p in unique])[gather]
    row = np.repeat(np.arange(count), lengths)
    counts = np.stack([p.counts for p in unique])[which]
    before = np.cumsum(counts, axis=0) - counts  # occurrences of each node in earlier documents
    parent = before[row, np.maximum(parent_of[node], 0)] + local_parent
    segment = np.where(local_segment >= 0, body[row] + local_segment, -1)
    # stable sort by node; as int16 numpy sorts by radix (nodes number far fewer than 32k)
    node_count = len(parent_of)
    order = np.argsort(node.astype(np.int16) if node_count < 1 << 15 else node, kind="stable")
    node, parent, segment = node[order], parent[order], segment[order]
    bounds = np.searchsorted(node, np.arange(node_count + 1))
    return Placed(node, parent, segment, bounds, counts)
