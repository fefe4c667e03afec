"""Benchmark: how long a newcomer waits from `congress demo` to a moving picture on /watch.

    python bench/demo_picture.py [--runs 3]

Each run: a fresh folder, `congress demo --port P` in its own process (congress.demo.process), and
Debian's Chromium (Playwright) opening /watch?congress=1 as soon as the server answers. Printed per
run: seconds from starting the command to the server answering (the demo is built first: roster,
codes, the trustees' key, proposals), and to the video playing with its time moving on (the first
frame the viewer sees). The test picture (ffmpeg) starts before the demo is built, so its first
segments are usually ready before the server answers. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from congress.demo.process import DemoProcess  # noqa: E402

PLAYING = "() => { const v = document.querySelector('#stream video'); return !!v && v.readyState >= 2 && !v.paused && v.currentTime > 0; }"


def one_run(browser) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory(prefix="demo-picture-") as folder:
        demo = DemoProcess(Path(folder))
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.goto(f"{demo.url}/watch?congress=1")
            page.wait_for_function(PLAYING, timeout=120_000, polling=50)
            playing = time.monotonic() - demo.started
            page.close()
            return demo.answered_after, playing
        finally:
            demo.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=["--headless", "--no-sandbox", "--disable-gpu"])
        results = []
        for run in range(1, args.runs + 1):
            answered, playing = one_run(browser)
            results.append((answered, playing))
            print(f"run {run}: server answered after {answered:.1f} s, picture playing after {playing:.1f} s", flush=True)
        browser.close()
    print(f"median: server {statistics.median(r[0] for r in results):.1f} s, "
          f"picture {statistics.median(r[1] for r in results):.1f} s (of {len(results)} runs)")


if __name__ == "__main__":
    main()
