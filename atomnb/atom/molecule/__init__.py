"""Molecules on Dask distributed: an atom's executions run on a cluster's workers.

``[settings] executor = "dask"`` (or ``atomnb atom start --executor dask
--dask-scheduler tcp://HOST:PORT``): the atom claims executions in the store as
always and submits each to the cluster (``cluster``); the workers run them with
the same warm-kernel executor (``worker``).
"""
