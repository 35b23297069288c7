"""An atom with its stream listeners, as a process the tests can SIGKILL and start again.

``python -m tests.streams.atom_host HOME`` starts ``Atom`` (one worker, which starts its
stream listeners), polls the deployments every half second, prints ``ready`` and runs
until SIGTERM: an atom without the web server, quick to start again in a test.
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
    assert isinstance(atom.streams, AtomStreams)
    atom.streams.refresh_s = 0.5
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    print("ready", flush=True)
    done.wait()
    atom.stop(grace_s=5)


if __name__ == "__main__":
    main(sys.argv[1])
