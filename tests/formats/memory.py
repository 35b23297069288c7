"""Run a read in a fresh interpreter and measure how far its peak RSS rose.

The child reports its own peak (VmHWM) before and after the read; the parent
watches the child's resident size and kills it past ``cap_mb``, so a reader that
grows without bound fails the test instead of exhausting the shared machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass

import psutil

_PRELUDE = """
import json, sys
def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0
import atomnb as ab
from atomnb.errors import AtomnbError
{warm}
baseline = peak_mb()
error = None
try:
{body}
except AtomnbError as exc:
    error = str(exc)
print(json.dumps({{"error": error, "rise_mb": peak_mb() - baseline}}))
"""


@dataclass
class Measured:
    returncode: int
    error: str | None
    rise_mb: float
    stderr: str
    killed: bool


def measure(body: str, *args: str, warm: str = "", cap_mb: int = 2048) -> Measured:
    """Run ``body`` (indented into a try block; ``sys.argv[1:]`` holds ``args``)."""
    indented = "\n".join("    " + line for line in body.strip().splitlines())
    code = _PRELUDE.format(warm=warm, body=indented)
    child = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watched = psutil.Process(child.pid)
    killed = False
    deadline = time.monotonic() + 600
    while child.poll() is None:
        try:
            if watched.memory_info().rss > cap_mb << 20:
                child.kill()
                killed = True
        except psutil.NoSuchProcess:
            break
        if time.monotonic() > deadline:
            child.kill()
        time.sleep(0.02)
    out, err = child.communicate(timeout=60)
    lines = out.strip().splitlines()
    result = json.loads(lines[-1]) if lines and not killed else {"error": None, "rise_mb": -1}
    return Measured(child.returncode, result["error"], float(result["rise_mb"]), err, killed)
