"""Atoms of the observability tests' own: started with a known id, checked by it."""

from __future__ import annotations

import secrets
from pathlib import Path

from tests.atom.conftest import AtomProcess
from tests.conftest import _free_port


def own_atom(home: Path, name: str, args: list[str], settings: str = "") -> AtomProcess:
    """An atom of our own: its id is checked, so a port taken meanwhile by another test's
    atom (between the port check and our bind) is never mistaken for ours."""
    home.mkdir(parents=True, exist_ok=True)
    atom_id = f"{name}-{secrets.token_hex(4)}"
    (home / "atom.toml").write_text(f'[atom]\nid = "{atom_id}"\n\n[settings]\n{settings}\n')
    seen = []
    for attempt in range(5):
        atom = AtomProcess(home, _free_port(), args, home.parent / f"{name}{attempt}.log")
        try:
            atom.start()
        except AssertionError as exc:
            if atom.proc is not None and atom.proc.poll() is None:
                atom.proc.kill()
                atom.proc.wait()
            seen.append(str(exc)[-300:])
            continue  # the port was taken before the atom could bind it
        answered = atom.client.health()["atom"]
        if answered == atom_id:
            return atom
        seen.append(f"{atom.url} is atom {answered}")
        atom.client.close()
        atom.proc.kill()
        atom.proc.wait()
    raise AssertionError(f"could not start an atom of our own in {home}: {seen}")
