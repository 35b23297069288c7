"""Stream listeners on the atom: a consumer group read into runs, acknowledged as they end.

``loop.StreamListener`` is the consumer loop (one thread per listened stream,
back pressure, stop and resume); ``runners`` says where a batch runs — a
function on a thread pool (``FunctionRunner``) or a general-mode execution of a
deployed process (``ExecutionRunner``, the run id being the execution id).
"""

from atomnb.atom.streams.loop import ListenerStats, Runner, RunResult, StreamListener
from atomnb.atom.streams.runners import (
    ExecutionRunner,
    FunctionRunner,
    PoolRunner,
    rejected_messages,
)

__all__ = [
    "ExecutionRunner",
    "FunctionRunner",
    "ListenerStats",
    "PoolRunner",
    "RunResult",
    "Runner",
    "StreamListener",
    "rejected_messages",
]
