"""An atom with its stream listeners, as a process the tests can SIGKILL and start again.

``python -m tests.streams.atom_host HOME`` starts ``Atom`` (one worker) and
``AtomStreams`` on it, prints ``ready`` and runs until SIGTERM. It stands in for
``atomnb atom start`` until the atom starts its stream listeners itself.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

from atomnb.atom.home import AtomHome
from atomnb.atom.service import Atom
from atomnb.atom.streams.service import AtomStreams


def main(home: str) -> None:
    atom = Atom(AtomHome(Path(home)), workers=1, prewarm=False)
    atom.start()
    streams = AtomStreams(atom, refresh_s=0.5)
    streams.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    print("ready", flush=True)
    done.wait()
    streams.stop(grace_s=5)
    atom.stop(grace_s=5)


if __name__ == "__main__":
    main(sys.argv[1])
