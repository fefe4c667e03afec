"""`congress serve` in its own process, as an operator starts it: for tests, benchmarks and rehearsals
on one machine. Started on a free port; the constructor returns once the server answers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_answering(url: str, process: subprocess.Popen[bytes], seconds: float, *, pause: float = 0.1,
                         any_status: bool = False) -> bool:
    """GET `url` until it answers (a 2xx, or any status with `any_status`); False if `process` ends or
    `seconds` pass first, so the caller can stop it and say what its log shows."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            response = httpx.get(url, timeout=2)
            if not any_status:
                response.raise_for_status()
            return True
        except httpx.HTTPError:
            if process.poll() is not None or time.monotonic() > deadline:
                return False
            time.sleep(pause)


def end_process(process: subprocess.Popen[bytes], sig: int = signal.SIGINT, grace: float = 20) -> int:
    """`sig` (a graceful stop), then SIGKILL if the process has not ended within `grace` seconds;
    returns its exit code."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(max(grace, 30))
    return process.returncode


def serve_argv(database_url: str, port: int, *, redis_url: str | None = None, workers: int = 1,
               extra_args: tuple[str, ...] = ()) -> list[str]:
    """The `congress serve` command line (ServerProcess runs it; a test may hand it to a supervisor)."""
    command = [sys.executable, "-m", "congress.cli", "--database-url", database_url, "serve", "--port", str(port)]
    if redis_url:
        command += ["--redis-url", redis_url]
    if workers > 1:  # uvicorn's workers on one port (needs Redis)
        command += ["--workers", str(workers)]
    return command + list(extra_args)


class Loopback:
    """Something listening on 127.0.0.1:`port`: its HTTP and websocket addresses."""

    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"


class ServerProcess(Loopback):
    """The one way tests and benchmarks start `congress serve` (tests.story.LiveServer runs the app
    in a thread of the test process instead, when a test needs the app object itself).

    `env` is added to this process's environment; with `clean_env` no CONGRESS_* setting of this
    process is inherited (only the arguments and `env` configure the server). `extra_args` go after
    `serve`; `cwd` is where it runs (the repository by default)."""

    def __init__(self, database_url: str, log_path: Path, *, redis_url: str | None = None,
                 port: int | None = None, env: dict[str, str] | None = None, workers: int = 1,
                 clean_env: bool = False, extra_args: tuple[str, ...] = (), cwd: Path | None = None) -> None:
        # A fixed port lets a test restart "the same worker" behind nginx, as systemd's congress@8001 does
        self.port = port or free_port()
        self.log_path = log_path
        self.log = log_path.open("ab")
        command = serve_argv(database_url, self.port, redis_url=redis_url, workers=workers, extra_args=extra_args)
        inherited = {k: v for k, v in os.environ.items() if not (clean_env and k.startswith("CONGRESS_"))}
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, cwd=cwd or ROOT,
                                        env={**inherited, **(env or {})})
        if not wait_until_answering(f"{self.url}/api/congresses", self.process, 60):
            self.stop()
            raise RuntimeError(f"server did not start: {log_path.read_text(errors='replace')[-2000:]}")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def terminate(self, timeout: float = 30) -> int:
        """SIGTERM, as systemd stops a unit, and wait for the process to exit; returns its exit code."""
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout)
        self.log.close()
        return code

    def stop(self, sig: int = signal.SIGINT, grace: float = 20) -> None:
        """SIGINT (a graceful shutdown) or `sig`, then SIGKILL if it does not end within `grace` seconds."""
        end_process(self.process, sig, grace)
        self.log.close()
