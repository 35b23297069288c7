"""Layer 1a, documents: the batch type every other layer passes along.

Owns ``Documents`` (an Arrow table plus per-document properties, and the
``Rejection`` records of documents refused on the way), its HTML view,
and ``DocumentStream`` (record-batch streaming for inputs larger than memory).
Knows nothing of formats, profiles or processes.
"""

from atomnb.documents.batch import DEFAULT_BATCH_ROWS, Documents
from atomnb.documents.exchange import read_ipc, write_ipc
from atomnb.documents.rejections import Rejection
from atomnb.documents.stream import DocumentStream, StreamConsumedError

__all__ = [
    "DEFAULT_BATCH_ROWS",
    "DocumentStream",
    "Documents",
    "Rejection",
    "StreamConsumedError",
    "read_ipc",
    "write_ipc",
]
