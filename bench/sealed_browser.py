"""Benchmark: sealing a ballot in the browser (web/js/sealed.js) in headless Chromium.

    python bench/sealed_browser.py [--repeat 10]

Two ballots are sealed in a blank page that imports sealed.js from a static server on 127.0.0.1: a
5-candidate election with 3 seats (3 names marked: 5 ciphertexts, 5 0/1 proofs, a 4-branch overall
proof) and a yes/no question (赞成/反对/弃权: 3 ciphertexts). Each is timed in the page with
performance.now() around sealBallot, unthrottled and with the CPU throttled 4x (CDP
Emulation.setCPUThrottlingRate, as DevTools emulates a slow phone). A fresh page for each rate; its
first seal (cold: JIT and noble's base-point table) is printed apart from the next --repeat runs,
whose median and max are printed. Target: the election under 1 s throttled.

Then a trustee's part of counting on the trustee page: decryption shares with their proofs for a
7-group, 5-option vote (35 sums: decryptShares), the same way. Target: under 2 s throttled. No
assertions.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from congress.sealed import group  # noqa: E402
from congress.sealed.ballot import SealedQuestion  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.browser.test_sealed_crypto import serve_web  # noqa: E402

BALLOTS = {
    "election 5 candidates, 3 seats": (SealedQuestion.of(2, "election", 5, 3), [1, 0, 1, 0, 1]),
    "yes/no": (SealedQuestion.of(1, "yes_no", 3, None), [1, 0, 0]),
}

TIME_DECRYPTING = """([share, alphas, repeat]) => {
    const times = [];
    for (let i = 0; i < repeat; i++) {
        const start = performance.now();
        S.decryptShares(['tally', 'vote:7', 'key:bench', 'ballots:bench'], 1, share, alphas);
        times.push(performance.now() - start);
    }
    return times;
}"""

TIME_SEALING = """([key, question, row, repeat]) => {
    const times = [];
    for (let i = 0; i < repeat; i++) {
        const start = performance.now();
        S.sealBallot(7, key, [question], { [question.question_id]: row });
        times.push(performance.now() - start);
    }
    return times;
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    key = group.base_mul(group.random_scalar()).hex()
    server, url = serve_web()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            print(f"Chromium {browser.version}, sealBallot, {args.repeat} runs after the first (ms)")
            print(f"{'CPU':<12} {'ballot':<32} {'first':>8} {'median':>8} {'max':>8}")
            for rate in (1, 4):
                for name, (question, row) in BALLOTS.items():
                    page = browser.new_page()
                    page.goto(url + "/")
                    page.evaluate("async () => { window.S = await import('/static/js/sealed.js'); }")
                    page.context.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": rate})
                    q = {"question_id": question.question_id, "options": question.options,
                         "least": question.least, "most": question.most}
                    first = page.evaluate(TIME_SEALING, [key, q, row, 1])[0]
                    times = page.evaluate(TIME_SEALING, [key, q, row, args.repeat])
                    label = "unthrottled" if rate == 1 else f"{rate}x slower"
                    print(f"{label:<12} {name:<32} {first:8.1f} {statistics.median(times):8.1f} {max(times):8.1f}")
                    page.close()
            share = group.scalar_hex(group.random_scalar())
            alphas = [group.base_mul(group.random_scalar()).hex() for _ in range(7 * 5)]
            for rate in (1, 4):
                page = browser.new_page()
                page.goto(url + "/")
                page.evaluate("async () => { window.S = await import('/static/js/sealed.js'); }")
                page.context.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": rate})
                first = page.evaluate(TIME_DECRYPTING, [share, alphas, 1])[0]
                times = page.evaluate(TIME_DECRYPTING, [share, alphas, max(3, args.repeat // 2)])
                label = "unthrottled" if rate == 1 else f"{rate}x slower"
                print(f"{label:<12} {'trustee: 35 decryption shares':<32} {first:8.1f} {statistics.median(times):8.1f} "
                      f"{max(times):8.1f}")
                page.close()
            browser.close()
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
