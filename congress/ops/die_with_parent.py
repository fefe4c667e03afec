"""Child processes that end with the server that started them.

A worker stopped with SIGKILL (an OOM kill, `rehearse --fault worker:kill`, systemd after its stop
timeout) runs no shutdown code, and its children were left behind: the secret ballots' proof pool
blocked on its pipe, the demo's ffmpeg still encoding. On Linux a child asks the kernel for SIGTERM
when its parent dies (prctl PR_SET_PDEATHSIG); elsewhere nothing is done.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In the child (a preexec_fn, or a process pool's initializer): SIGTERM when the parent dies.

    The parent may have died before this ran; then the child is already an orphan and ends now."""
    if sys.platform != "linux":
        return
    parent = os.getppid()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGTERM)
