"""Metrics of several workers in one place: the folder prometheus_client keeps them in.

`congress serve --workers N` (N > 1) calls `prepare` before uvicorn starts the workers: each worker
is a fresh process (spawned) that inherits PROMETHEUS_MULTIPROC_DIR, so its prometheus_client writes
its values to files there and /metrics adds up every worker's (congress.ops.exposition). The folder
is emptied at start: the files of an earlier run would be counted again. Imports no
prometheus_client: the variable must be set before a worker imports it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import MutableMapping
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"


def folder() -> str | None:
    """The multi-process folder of this process, if metrics are kept there."""
    return os.environ.get(ENV) or None


def prepare(workers: int, environ: MutableMapping[str, str] = os.environ) -> tuple[Path | None, bool]:
    """Before the workers start: (the folder, whether we made it and should remove it at the end).

    An operator's own PROMETHEUS_MULTIPROC_DIR is used (and its old *.db files removed); with several
    workers and none set, a new temporary folder. One worker and none set: None, the default registry."""
    given = environ.get(ENV)
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        mine = f"_{os.getpid()}.db"  # this process may have made its files already (it imported the metrics)
        for old in path.glob("*.db"):
            if not old.name.endswith(mine):
                old.unlink()
        return path, False
    if workers <= 1:
        return None, False
    path = Path(tempfile.mkdtemp(prefix="congress-metrics-"))
    environ[ENV] = str(path)
    return path, True


def remove(path: Path | None, made_here: bool) -> None:
    if path is not None and made_here:
        shutil.rmtree(path, ignore_errors=True)
