"""What recording the metrics costs on the hot paths (congress.ops.metrics), per call.

    python bench/metrics_overhead.py [--calls 200000]

Each recording function is called N times in a tight loop, in one process (the default registry,
in memory) and, in a child process, in multi-process mode (PROMETHEUS_MULTIPROC_DIR: values in
memory-mapped files, as with `congress serve --workers N`). Per call, in microseconds; then what a
burst of 3,000 ballots costs (one command() per ballot, one commit_batch() and events_published()
per group commit of ~500, one events_delivered() per hub round).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time


def measure(calls: int) -> dict[str, float]:
    from congress.application.commands import load_all
    from congress.ops import metrics

    load_all()
    cases = {
        "command(cast_ballot, ok)": lambda: metrics.command("cast_ballot", "ok", 0.012),
        "commit_batch(500, 0.02)": lambda: metrics.commit_batch(500, 0.02),
        "events_published(10)": lambda: metrics.events_published(10),
        "events_delivered(4000)": lambda: metrics.events_delivered(4000),
        "connection_opened+closed": lambda: (metrics.connection_opened("observer"), metrics.connection_closed("observer")),
        "resume(snapshot)": lambda: metrics.resume("snapshot"),
        "backplane_lag(0.003)": lambda: metrics.backplane_lag(0.003),
    }
    out = {}
    for name, call in cases.items():
        call()
        started = time.perf_counter()
        for _ in range(calls):
            call()
        out[name] = (time.perf_counter() - started) / calls * 1e6
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.calls)))
        return
    results = {}
    with tempfile.TemporaryDirectory(prefix="congress-metrics-bench-") as folder:
        for mode, extra in (("one process", {}), ("multi-process", {"PROMETHEUS_MULTIPROC_DIR": folder})):
            env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"} | extra
            done = subprocess.run([sys.executable, __file__, "--child", "--calls", str(args.calls)], env=env,
                                  capture_output=True, text=True, check=True)
            results[mode] = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"{'call':<28} {'one process µs':>15} {'multi-process µs':>17}   ({args.calls:,} calls each, load {os.getloadavg()[0]:.1f})")
    for name in results["one process"]:
        print(f"{name:<28} {results['one process'][name]:>15.2f} {results['multi-process'][name]:>17.2f}")
    for mode, r in results.items():
        burst = 3000 * r["command(cast_ballot, ok)"] + 6 * (r["commit_batch(500, 0.02)"] + r["events_published(10)"]) \
            + 3000 * r["events_delivered(4000)"]
        print(f"3,000 ballots, {mode}: {burst / 1000:.1f} ms of recording in all")


if __name__ == "__main__":
    main()
