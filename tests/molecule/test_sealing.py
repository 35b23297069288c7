"""What a Dask task carries of an execution's secrets: sealed values, a repr with the id only."""

from __future__ import annotations

import pickle

import pytest
from cryptography.fernet import Fernet

from atomnb.atom.molecule.worker import KEY_ENV, AtomWorkerPlugin, RemoteRun, seal
from atomnb.errors import AtomError

VALUE = "canary-9d1e77-secret"


def _spec(key: bytes) -> RemoteRun:
    return RemoteRun(
        execution_id="e-1",
        plugin="atomnb-a",
        workspace="/w",
        notebook="/w/n.ipynb",
        executions_dir="/x",
        trigger="api",
        sealed=seal(key, {"secrets": {"token": VALUE}, "kernel": {"T": VALUE}}),
    )


def test_a_task_never_carries_a_secret_value_in_the_clear() -> None:
    key = Fernet.generate_key()
    spec = _spec(key)
    assert VALUE.encode() not in pickle.dumps(spec)  # what the scheduler holds
    assert repr(spec) == "RemoteRun(e-1)"  # what a worker logs of a failed task
    plugin = AtomWorkerPlugin("a", "sqlite:///s.db", key, "/k")
    assert plugin._open(spec) == {"secrets": {"token": VALUE}, "kernel": {"T": VALUE}}
    assert "sqlite" not in repr(plugin) and key.decode() not in repr(plugin)


def test_a_plugin_with_the_key_in_the_environment_carries_none() -> None:
    plugin = AtomWorkerPlugin("a", "sqlite:///s.db", None, "/k")
    copy = pickle.loads(pickle.dumps(plugin))
    assert copy.key is None and copy.name == "atomnb-a"
    with pytest.raises(AtomError, match=KEY_ENV):
        copy._open(_spec(Fernet.generate_key()))  # a worker without the key says so
    copy.key = Fernet.generate_key()
    with pytest.raises(AtomError, match="is not the atom's"):
        copy._open(_spec(Fernet.generate_key()))
