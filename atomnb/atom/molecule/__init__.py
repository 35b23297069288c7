"""Molecules on Dask distributed: an atom's executions run on a cluster's workers.

``[settings] executor = "dask"`` (or ``atomnb atom start --executor dask
--dask-scheduler tcp://HOST:PORT``): the atom claims executions in the store as
always and submits each to the cluster (``cluster``; how a run's end is followed
in ``ending``, the scheduler's workers in ``members``); the workers run them with
the same warm-kernel executor (``worker``, its hold on a run in ``watcher``).
With outputs on object storage (``outputs``) workers run in a staging folder
(``staging``), copy their progress as they go (``sync``) and hand a process
call's documents over through the bucket (``handover``). Big maps run partition
by partition on the workers (``maps``).
"""
