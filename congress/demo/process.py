"""`congress demo` in its own process, as a newcomer runs it: for tests and benchmarks. Started on a
free port in a folder of its own (its SQLite file, trustee key files and test picture go there);
the constructor returns once the server answers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from congress.ops.server_process import Loopback, end_process, free_port, wait_until_answering


class DemoProcess(Loopback):
    def __init__(self, folder: Path, *, env: dict[str, str] | None = None, timeout: float = 180) -> None:
        self.folder = folder
        self.port = free_port()
        self.log_path = folder / "demo-output.txt"
        folder.mkdir(parents=True, exist_ok=True)
        environ = {k: v for k, v in os.environ.items() if k not in ("CONGRESS_DATABASE_URL", "CONGRESS_STREAM_DIR")}
        self.started = time.monotonic()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "congress.cli", "demo", "--port", str(self.port)],
                cwd=folder, stdout=log, stderr=subprocess.STDOUT, env={**environ, **(env or {})})
        if not wait_until_answering(f"{self.url}/api/congresses", self.process, timeout, pause=0.2):
            self.stop()
            raise RuntimeError(f"the demo did not start: {self.output()[-2000:]}")
        self.answered_after = time.monotonic() - self.started

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGINT) -> int:
        """As Ctrl-C does (SIGINT), or another signal; SIGKILL if it has not ended after 30 s."""
        return end_process(self.process, sig, 30)
