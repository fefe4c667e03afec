"""A server killed outright leaves no child behind: the proof pool's workers end with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVER = """
import os, sys, time
from congress.application.service import proof_pool
pool = proof_pool(2)
pids = {pool.submit(os.getpid).result() for _ in range(8)}
print(" ".join(map(str, sorted(pids))), flush=True)
time.sleep(120)
"""


def is_alive(pid: int) -> bool:
    """Running, not a zombie waiting for init to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")
def test_the_proof_pool_ends_with_a_server_killed_by_sigkill() -> None:
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        workers = [int(pid) for pid in server.stdout.readline().split()]  # type: ignore[union-attr]
        assert workers and all(is_alive(pid) for pid in workers)
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        deadline = time.monotonic() + 15
        while any(is_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [pid for pid in workers if is_alive(pid)]
        assert left == [], f"proof pool workers still running after the server was killed: {left}"
    finally:
        if server.poll() is None:
            server.kill()
        for pid in workers if "workers" in locals() else []:
            if is_alive(pid):
                os.kill(pid, signal.SIGKILL)
