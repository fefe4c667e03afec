"""Browser tests: the real pages in Debian's Chromium, driven by Playwright, against a real server.

Chromium is `/usr/bin/chromium` (apt-get install chromium fonts-noto-cjk); Playwright's own browser
download is never used. In CI (CI=true) a missing Chromium fails the tests; locally they skip.
Every page is watched: a JavaScript error, a failed same-origin request, any request to another
host or a Content-Security-Policy violation fails the test. Screenshots go to artifacts/screenshots/
only: a test run never rewrites the tracked docs/screenshots/. To refresh those (the README's tour),
run the tests that make them with CONGRESS_REFRESH_DOCS=1 (README, "Screenshots").
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from congress.db.engine import Database
from congress.db.migrate import upgrade
from congress.settings import Settings
from tests.story import LiveServer, Story, build_story

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "screenshots"
DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"
FAILURES = ROOT / "artifacts" / "failures"
IN_CI = os.environ.get("CI", "").lower() == "true"
REFRESH_DOCS = os.environ.get("CONGRESS_REFRESH_DOCS", "") == "1"
PHONE = {"width": 360, "height": 740}
LAPTOP = {"width": 1366, "height": 900}
PROJECTOR = {"width": 1920, "height": 1080}


# Module scope, not session: Playwright's sync API keeps its event loop running in this thread while
# it is open, and the asyncio tests that pytest runs after these need the thread to themselves.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install -y chromium fonts-noto-cjk"
        if IN_CI:
            pytest.fail(f"{message} (CI requires the browser tests to run)")
        pytest.skip(message)
    from playwright.sync_api import expect, sync_playwright

    # How long an assertion waits for the page to get there, like the actions' 15 s: a bound on a
    # wait, never a speed check (speed lives in bench/). Playwright's 5 s default failed tests whose
    # page was right a few seconds later on a loaded 2-core machine.
    expect.set_options(timeout=15_000)

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Site:
    """A running server with the story's congress, and helpers to act on it over HTTP."""

    server: LiveServer
    story: Story
    database_url: str
    db: Database

    @property
    def url(self) -> str:
        return self.server.url

    def sign_in(self, body: dict[str, Any]) -> httpx.Client:
        client = httpx.Client(base_url=self.url, timeout=30)
        response = client.post("/api/sign-in", json=body)
        response.raise_for_status()
        client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        return client

    def staff(self) -> httpx.Client:
        return self.sign_in({"login": self.story.staff_login, "password": self.story.staff_password})

    def delegate(self, employee_id: str) -> httpx.Client:
        return self.sign_in({"employee_id": employee_id, "code": self.story.codes[employee_id],
                             "congress_id": self.story.congress_id})

    def command(self, client: httpx.Client, op: str, **args: Any) -> dict[str, Any]:
        response = client.post(f"/api/congresses/{self.story.congress_id}/commands/{op}", json=args)
        assert response.status_code == 200, response.text
        return response.json()["result"]

    def check_in_before_pages_open(self, share: float = 0.7) -> list[str]:
        """Desk check-in of `share` of each group's voting delegates (enough for the quorum), straight
        through the action: no page is open yet, so no live event is missed. Returns employee ids."""
        from congress.actions.attendance import check_in_at_desk
        from congress.actions.base import Context
        from congress.application.service import system_clock
        from tests.story import SETUP

        by_group: dict[int, list[str]] = {}
        for d in self.story.voting():
            by_group.setdefault(d.group_id, []).append(d.employee_id)
        chosen = [e for ids in by_group.values() for e in ids[:round(len(ids) * share)]]
        with self.db.write() as session:
            ctx = Context(session, SETUP, system_clock())
            for employee_id in chosen:
                check_in_at_desk(ctx, self.story.congress_id, employee_id)
        return chosen

    def restart(self) -> None:
        """Stop the server and start a new one on the same port and the same database."""
        port = self.server.port
        self.server.stop()
        self.server = LiveServer(Settings(database_url=self.database_url, port=port, coalesce_seconds=0.1)).start()


@pytest.fixture(scope="session")
def story_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Story]:
    """The story's congress built once (migrations, roster, access codes), copied for each test."""
    folder = tmp_path_factory.mktemp("story")
    url = f"sqlite:///{folder / 'congress.db'}"
    upgrade(url)
    db = Database(url)
    try:
        story = build_story(db)
    finally:
        db.dispose()
    return folder / "congress.db", story


@contextmanager
def story_site(folder: Path, story_template: tuple[Path, Story], **settings: Any) -> Iterator[Site]:
    """A copy of the story's database in `folder` and a server on it (more Settings in `settings`)."""
    template, story = story_template
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{template}{suffix}").exists():
            shutil.copyfile(f"{template}{suffix}", folder / f"congress.db{suffix}")
    url = f"sqlite:///{folder / 'congress.db'}"
    db = Database(url)
    server = LiveServer(Settings(database_url=url, port=0, coalesce_seconds=0.1, **settings)).start()
    running = Site(server, story, url, db)
    try:
        yield running
    finally:
        running.server.stop()
        db.dispose()


@pytest.fixture
def site(tmp_path: Path, story_template: tuple[Path, Story]) -> Iterator[Site]:
    with story_site(tmp_path, story_template) as running:
        yield running


@dataclass
class Watched:
    """Problems seen on the pages of one test."""

    errors: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    csp: list[str] = field(default_factory=list)  # Content-Security-Policy violations


@pytest.fixture
def watched() -> Watched:
    return Watched()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


class FrameLog:
    """The last websocket frames and console lines of one page, told when its test fails: a
    timeout on a locator alone does not say whether the command went out or what came back."""

    KEEP = 60

    def __init__(self, page: Any) -> None:
        self.page = page
        self.lines: list[str] = []
        self.started = time.monotonic()
        page.on("websocket", self._socket)
        page.on("console", lambda msg: self._add(f"console.{msg.type} {msg.text}"))

    def _add(self, line: str) -> None:
        self.lines.append(f"{time.monotonic() - self.started:7.2f}s {line[:300]}")
        del self.lines[:-self.KEEP]

    def _socket(self, socket: Any) -> None:
        self._add(f"ws open {socket.url}")
        socket.on("framesent", lambda payload: self._add(f"ws -> {payload}"))
        socket.on("framereceived", lambda payload: self._add(f"ws <- {payload}"))
        socket.on("close", lambda _socket: self._add("ws closed"))

    def tell(self, test: str, index: int) -> None:
        FAILURES.mkdir(parents=True, exist_ok=True)
        print(f"--- page {index}: {self.page.url}")
        print("\n".join(self.lines))
        try:
            self.page.screenshot(path=str(FAILURES / f"{test}-page-{index}.png"), full_page=True)
        except Exception as error:  # the page may have crashed: the frames are what matter
            print(f"(no screenshot: {error})")


# Every page opened by open_page reports each Content-Security-Policy violation (an inline script or
# style, a handler attribute, a host the policy does not name) to the console, and the test fails:
# the pages must work under the policy the server sends, not beside it.
CSP_WATCH = """
document.addEventListener('securitypolicyviolation', (e) => {
  console.error(`CSP violation: ${e.effectiveDirective} blocked ${e.blockedURI || '(inline)'}`
                + ` in ${e.documentURI} (${e.sourceFile || ''}:${e.lineNumber || ''})`);
});
"""


def _is_csp_report(text: str) -> bool:
    """Our watcher's line, or Chromium's own ("Refused to … violates the following Content Security Policy …")."""
    return text.startswith("CSP violation:") or "Content Security Policy" in text


@pytest.fixture
def open_page(browser: Any, site: Site, watched: Watched, request: pytest.FixtureRequest) -> Iterator[Any]:
    """open_page(path, viewport=PHONE) -> a Page in a fresh context (its own cookies)."""
    contexts = []
    logs: list[FrameLog] = []

    def make(path: str, viewport: dict[str, int] | None = None, context: Any = None, init_script: str | None = None) -> Any:
        if context is None:
            context = browser.new_context(viewport=viewport or LAPTOP, locale="zh-CN", timezone_id="Asia/Shanghai",
                                          service_workers="block")
            contexts.append(context)
            context.add_init_script(CSP_WATCH)
            if init_script:
                context.add_init_script(init_script)
            origin = site.url

            def guard(route: Any) -> None:
                if route.request.url.startswith(origin) or route.request.url.startswith(("data:", "blob:")):
                    route.continue_()
                else:
                    watched.foreign.append(route.request.url)
                    route.abort()

            context.route("**/*", guard)
        page = context.new_page()
        logs.append(FrameLog(page))
        page.on("pageerror", lambda exc: watched.errors.append(f"{page.url}: {exc}"))
        page.on("console", lambda msg: watched.csp.append(f"{page.url}: {msg.text}") if _is_csp_report(msg.text)
                else watched.errors.append(f"{page.url}: console {msg.text}")
                if msg.type == "error" and "WebSocket" not in msg.text and "ERR_CONNECTION_REFUSED" not in msg.text
                and "Failed to load resource" not in msg.text else None)
        page.on("response", lambda response: watched.errors.append(f"{response.status} {response.url}")
                if response.status >= 400 and "/static/" in response.url and "no-such-stream" not in response.url
                else None)
        page.on("dialog", lambda dialog: (watched.dialogs.append(dialog.message), dialog.dismiss()))
        page.set_default_timeout(15_000)
        page.goto(site.url + path)
        return page

    yield make
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        for index, log in enumerate(logs):
            log.tell(re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name), index)
    for context in contexts:
        context.close()
    assert not watched.dialogs, f"a page opened a dialog: {watched.dialogs}"
    assert not watched.foreign, f"a page made requests to another host: {watched.foreign}"
    assert not watched.csp, "a page broke its Content-Security-Policy:\n" + "\n".join(watched.csp)
    assert not watched.errors, "JavaScript errors:\n" + "\n".join(watched.errors)


def sign_in_delegate(open_page: Any, site: Site, employee_id: str, viewport: dict[str, int] | None = None,
                     init_script: str | None = None) -> Any:
    """Sign in on the sign-in page as a delegate (on a phone by default); returns the delegate page."""
    page = open_page("/sign-in", viewport or PHONE, init_script=init_script)
    page.get_by_label("工号", exact=True).fill(employee_id)
    page.get_by_label("访问码", exact=True).fill(site.story.codes[employee_id])
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url("**/delegate")
    return page


def sign_in_staff(open_page: Any, site: Site, init_script: str | None = None,
                  ws_relay: Callable[[Any], None] | None = None) -> Any:
    """Sign in on the sign-in page's staff tab; returns the staff page. `ws_relay` (Playwright's
    route_web_socket handler) stands between the page and /ws from its first connection."""
    page = open_page("/sign-in", LAPTOP, init_script=init_script)
    if ws_relay is not None:
        page.route_web_socket("**/ws*", ws_relay)
    page.get_by_role("tab", name="工作人员 / 承办部门").click()
    page.get_by_label("账号", exact=True).fill(site.story.staff_login)
    page.get_by_label("密码", exact=True).fill(site.story.staff_password)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url("**/staff")
    return page


def wait_for_true(page: Any, expression: str, timeout: float = 15.0) -> None:
    """Poll a JavaScript expression from here until it is true. Playwright's wait_for_function polls
    inside the page and, when the answer is not there at once, builds its predicate with eval, which
    the pages' Content-Security-Policy refuses (a violation these tests count as a failure); an
    evaluate from the test is not the page's own script and is not refused."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout:.0f} s: {expression}")
        page.wait_for_timeout(100)


def shot(page: Any, name: str, *, docs: str | None = None, full_page: bool = False) -> Path:
    """Save a screenshot under artifacts/screenshots/; `docs` names the README tour's copy of it,
    written only when CONGRESS_REFRESH_DOCS=1 (see keep_for_docs)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    page.screenshot(path=str(path), full_page=full_page)
    if docs:
        keep_for_docs(path, docs)
    return path


def keep_for_docs(path: Path, docs: str) -> None:
    """Copy a screenshot over docs/screenshots/`docs`, only when asked (CONGRESS_REFRESH_DOCS=1):
    otherwise every run would rewrite tracked files with pixels that differ a little each time."""
    if REFRESH_DOCS:
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_SCREENSHOTS / docs)


# Checks every page should pass: each form control has a label, and text contrasts 4.5:1 or more.
A11Y_SCRIPT = """
() => {
  const problems = [];
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden' || !el.getClientRects().length) continue;
    const labelled = (el.labels && el.labels.length) || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
    if (!labelled) problems.push('unlabelled control: ' + el.outerHTML.slice(0, 120));
  }
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const channel = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const lum = (c) => 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  const blend = (top, under) => ({ r: top.r * top.a + under.r * (1 - top.a), g: top.g * top.a + under.g * (1 - top.a),
                                   b: top.b * top.a + under.b * (1 - top.a), a: 1 });
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    let result = { r: 255, g: 255, b: 255, a: 1 };
    for (const c of layers.reverse()) result = blend(c, result);
    return result;
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!node.textContent.trim() || !el || seen.has(el) || el.closest('svg, noscript, script, style, option')) continue;
    seen.add(el);
    if (!el.getClientRects().length || getComputedStyle(el).visibility === 'hidden') continue;
    const style = getComputedStyle(el);
    const under = background(el);
    const fg = blend(parse(style.color), under);
    const [l1, l2] = [lum(fg), lum(under)].sort((a, b) => b - a);
    const ratio = (l1 + 0.05) / (l2 + 0.05);
    if (ratio < 4.5) problems.push(`contrast ${ratio.toFixed(2)} for "${node.textContent.trim().slice(0, 30)}" (${style.color} on rgb(${under.r},${under.g},${under.b}))`);
  }
  return problems;
}
"""


def accessibility_problems(page: Any) -> list[str]:
    return page.evaluate(A11Y_SCRIPT)
