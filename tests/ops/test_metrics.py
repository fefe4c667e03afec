"""/metrics as an operator uses it (issue 17 point 2), with real parts: `congress serve` processes,
PostgreSQL, Redis, nginx configured from deploy/nginx.conf, websockets.

- Who may read it: a request straight from this host, or a bearer of CONGRESS_METRICS_TOKEN; through
  nginx /metrics is refused, and a worker's /metrics/<port> answers only with the token.
- `congress serve --workers 2`: after a vote cast over websockets the figures are those of both
  workers added up, whichever answers (ballots, commands, connections by role, ...); every query of
  deploy/grafana-congress.json names a series the server exports; a worker killed with SIGKILL stops
  counting its connections.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from congress.db.engine import Database
from congress.ops.server_process import ROOT, ServerProcess, serve_argv
from tests.conftest import REDIS_URL, require_redis
from tests.ops.nginx import SHIPPED, Nginx
from tests.story import GROUPS, LiveClient, build_story, main_hall_roster, open_pay_vote, sign_in

pytestmark = pytest.mark.anyio
DASHBOARD = ROOT / "deploy" / "grafana-congress.json"
ALERTS = ROOT / "deploy" / "prometheus-alerts.yml"

# PromQL words that are not series names
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool",
                "offset", "inf", "nan"}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# -- reading the exposition and the dashboard ------------------------------------------------------
def samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    return [(s.name, s.labels, s.value) for family in text_string_to_metric_families(text) for s in family.samples]


def total(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels`."""
    return sum(value for n, have, value in samples(text) if n == name and labels.items() <= have.items())


def series_in(expr: str) -> set[str]:
    """The series names a PromQL expression reads: label matchers, `by (...)` lists, ranges and
    strings removed; what is left that is no function (followed by "(") and no keyword or number."""
    text = re.sub(r'"(?:\\.|[^"\\])*"', "", expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        after = text[match.end():].lstrip()
        if after.startswith("(") or match.group().lower() in PROMQL_WORDS:
            continue
        if match.start() > 0 and (text[match.start() - 1].isdigit() or text[match.start() - 1] == "."):
            continue  # the exponent or unit of a number (1e3)
        names.add(match.group())
    return names


def dashboard_queries() -> dict[str, list[str]]:
    """Panel title -> its queries, rows' nested panels included."""
    def walk(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for panel in panels:
            yield panel
            yield from walk(panel.get("panels", []))

    board = json.loads(DASHBOARD.read_text())
    return {p["title"]: [t["expr"] for t in p.get("targets", []) if t.get("expr")] for p in walk(board["panels"])}


def alert_queries() -> dict[str, str]:
    """Alert name -> its expression, from deploy/prometheus-alerts.yml."""
    rules = yaml.safe_load(ALERTS.read_text())
    return {rule["alert"]: rule["expr"] for group in rules["groups"] for rule in group["rules"]}


def test_the_series_reader_finds_names_and_skips_functions_labels_and_keywords() -> None:
    assert series_in('histogram_quantile(0.99, sum by (op, le) (rate(congress_command_seconds_bucket{op="x"}[5m])))') \
        == {"congress_command_seconds_bucket"}
    assert series_in("sum(rate(a_total[1m])) / sum(rate(b_count[1m])) * 60 > 1e3") == {"a_total", "b_count"}
    assert series_in("min by (check) (congress_ready_check) and on (instance) up") == {"congress_ready_check", "up"}


def test_the_dashboard_shows_every_series_the_issue_asks_for() -> None:
    queries = dashboard_queries()
    assert all(queries.values()), [title for title, exprs in queries.items() if not exprs]
    read = {name for exprs in queries.values() for expr in exprs for name in series_in(expr)}
    for wanted in ("congress_connections", "congress_commands_total", "congress_command_seconds_bucket",
                   "congress_commit_batch_size_bucket", "congress_commit_seconds_bucket",
                   "congress_events_published_total", "congress_events_delivered_total",
                   "congress_slow_client_disconnects_total", "congress_resumes_total",
                   "congress_backplane_lag_seconds_bucket", "congress_ballots_acknowledged_total", "congress_ready"):
        assert wanted in read, wanted


# -- who may read /metrics ------------------------------------------------------------------------
def test_metrics_only_for_this_host_or_the_token_also_through_nginx(tmp_path: Path) -> None:
    token = secrets.token_urlsafe(24)
    worker = ServerProcess(f"sqlite:///{tmp_path / 'c.db'}", tmp_path / "server.log",
                           env={"CONGRESS_METRICS_TOKEN": token})
    try:  # (the worker is stopped whatever fails below: a failure here once left it running)
        # deploy/nginx.conf as shipped, its first instance's port (8001) being this worker's
        shipped = SHIPPED.read_text().replace("127.0.0.1:8001", f"127.0.0.1:{worker.port}")
        with Nginx(tmp_path, [worker.port], shipped=shipped) as nginx, httpx.Client(timeout=30) as http:
            # Straight from this host (a local Prometheus, curl on the host): served, no token needed
            local = http.get(f"{worker.url}/metrics")
            assert local.status_code == 200, local.text
            assert local.headers["content-type"].startswith("text/plain")
            assert total(local.text, "congress_ready") == 1.0
            # Straight, but saying it was forwarded (as everything through nginx is): refused, and why
            forwarded = http.get(f"{worker.url}/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
            assert forwarded.status_code == 403
            assert "Authorization: Bearer" in forwarded.json()["error"]["message"]
            wrong = http.get(f"{worker.url}/metrics", headers={"Authorization": "Bearer not-the-token"})
            assert wrong.status_code == 403 and wrong.json()["error"]["message"] == "wrong metrics token"

            # Through nginx: /metrics is refused even with the token (it would be any one worker's) ...
            for headers in ({}, {"Authorization": f"Bearer {token}"}):
                refused = http.get(f"{nginx.url}/metrics", headers=headers)
                assert refused.status_code == 403
                assert "congress_" not in refused.text
            # ... and each worker's /metrics/<instance> (here the shipped 8001: this worker) only to the token
            path = f"{nginx.url}/metrics/8001"
            no_token = http.get(path)
            assert no_token.status_code == 403, no_token.text
            assert "came through a proxy" in no_token.json()["error"]["message"]
            assert http.get(path, headers={"Authorization": "Bearer not-the-token"}).status_code == 403
            scraped = http.get(path, headers={"Authorization": f"Bearer {token}"})
            assert scraped.status_code == 200, scraped.text
            assert total(scraped.text, "congress_ready") == 1.0
            assert "congress_commands_total" in scraped.text or "congress_commands" in scraped.text

            # The probes: /healthz open, /readyz from this host (the shipped `allow 127.0.0.1`)
            assert http.get(f"{nginx.url}/healthz").json() == {"status": "ok"}
            assert http.get(f"{nginx.url}/readyz").json()["status"] == "ready"
    finally:
        worker.stop()


def test_serve_refuses_a_metrics_token_too_short_to_be_secret(tmp_path: Path) -> None:
    result = subprocess.run(serve_argv(f"sqlite:///{tmp_path / 'c.db'}", 0), cwd=ROOT, capture_output=True,
                            text=True, timeout=60, env={**os.environ, "CONGRESS_METRICS_TOKEN": "short"})
    assert result.returncode == 2
    assert "CONGRESS_METRICS_TOKEN" in result.stderr and "16" in result.stderr
    assert "short" not in result.stderr  # the secret itself is never printed
    assert not (tmp_path / "c.db").exists()  # nothing was done


def test_one_worker_in_the_operators_multiprocess_folder_drops_an_earlier_runs_figures(tmp_path: Path) -> None:
    from prometheus_client.mmap_dict import MmapedDict, mmap_key

    folder = tmp_path / "metrics"  # PROMETHEUS_MULTIPROC_DIR set by the operator, left from an earlier run
    folder.mkdir()
    stale = MmapedDict(str(folder / "counter_4194301.db"))
    stale.write_value(mmap_key("congress_ballots_acknowledged", "congress_ballots_acknowledged_total", (), (), "x"),
                      295.0, 0.0)
    stale.close()
    server = ServerProcess(f"sqlite:///{tmp_path / 'c.db'}", tmp_path / "server.log",
                           env={"PROMETHEUS_MULTIPROC_DIR": str(folder)})
    try:
        text = scrape(server.url)
        assert not (folder / "counter_4194301.db").exists()
        assert total(text, "congress_ballots_acknowledged_total") == 0  # not the earlier run's 295
        # this worker's own figures are there (its files were made before the folder was emptied)
        assert "congress_events_published_total" in {name for name, _labels, _value in samples(text)}
        assert total(text, "congress_ready") == 1
    finally:
        server.stop()


# -- two workers, a vote, the dashboard -------------------------------------------------------------
def prepare_vote(url: str) -> tuple[Any, int, str]:
    db = Database(url)
    try:
        story = build_story(db, roster=main_hall_roster(6), groups=GROUPS[:1])
        vote, question = open_pay_vote(db, story)
    finally:
        db.dispose()
    return story, vote["id"], question


def scrape(base: str) -> str:
    response = httpx.get(f"{base}/metrics", timeout=30)
    response.raise_for_status()
    return response.text


def pids_in(folder: Path, pattern: str) -> set[int]:
    return {int(p.stem.rsplit("_", 1)[1]) for p in folder.glob(pattern)}


async def test_two_workers_add_up_after_a_vote_and_every_dashboard_query_names_an_exported_series(
        pg_url: str, tmp_path: Path) -> None:
    require_redis()
    story, vote_id, question = prepare_vote(pg_url)
    folder = tmp_path / "metrics"  # the operator's PROMETHEUS_MULTIPROC_DIR (emptied at start)
    folder.mkdir()
    server = ServerProcess(pg_url, tmp_path / "server.log", redis_url=REDIS_URL, workers=2,
                           env={"PROMETHEUS_MULTIPROC_DIR": str(folder)})
    clients: list[LiveClient] = []
    try:
        staff_cookie, _ = sign_in(server.url, {"login": "staff", "password": story.staff_password})
        staff = LiveClient(server.ws_url, story.congress_id, staff_cookie)
        observer = LiveClient(server.ws_url, story.congress_id)
        delegates = [LiveClient(server.ws_url, story.congress_id, sign_in(server.url, {
            "employee_id": d.employee_id, "code": story.codes[d.employee_id], "congress_id": story.congress_id})[0])
            for d in story.voting()]
        clients = [staff, observer, *delegates]
        hellos = await asyncio.gather(*(client.connect() for client in clients))  # together: both workers take some
        assert [h["msg"] for h in hellos] == ["hello"] * len(clients)
        # The kernel hands each connection to either worker; a few more observers until both hold some
        while len(pids_in(folder, "gauge_livesum_*.db")) < 2 and len(clients) < 200:
            more = [LiveClient(server.ws_url, story.congress_id) for _ in range(10)]
            await asyncio.gather(*(client.connect() for client in more))
            clients += more
        assert len(pids_in(folder, "gauge_livesum_*.db")) == 2, "every connection went to one worker"
        observers = len(clients) - 1 - len(delegates)
        replies = await asyncio.gather(*(d.command("cast_ballot", vote_id=vote_id, answers={question: "yes"})
                                         for d in delegates))
        assert [r["msg"] for r in replies] == ["ack"] * len(delegates), replies
        # Staff see every delegate's ballot.recorded, from whichever worker stored it
        await staff.wait_for(lambda: staff.event_types().count("ballot.recorded") >= len(delegates), 30)

        # Whichever worker answers, the figures are both workers' together
        n = len(delegates)
        for _ in range(6):
            text = scrape(server.url)
            assert total(text, "congress_ballots_acknowledged_total") == n
            assert total(text, "congress_commands_total", op="cast_ballot", outcome="ok") == n
            assert total(text, "congress_command_seconds_count", op="cast_ballot") == n
            assert total(text, "congress_connections", role="delegate") == n
            assert total(text, "congress_connections", role="staff") == 1
            assert total(text, "congress_connections", role="observer") == observers
            assert total(text, "congress_resumes_total", kind="snapshot") >= len(clients)
            assert total(text, "congress_events_published_total") >= n
            assert total(text, "congress_events_delivered_total") >= n
            assert total(text, "congress_commit_batch_size_sum") >= n
            assert total(text, "congress_commit_seconds_count") >= 1
            assert total(text, "congress_backplane_lag_seconds_count") >= 1  # heard back from Redis
            assert total(text, "congress_ready") == 1
        assert len(pids_in(folder, "counter_*.db")) >= 2  # both workers wrote their figures

        # Every query of the dashboard reads series the server exports
        exported = {name for name, _labels, _value in samples(text)}
        missing = {title: sorted(series_in(expr) - exported)
                   for title, exprs in dashboard_queries().items() for expr in exprs if series_in(expr) - exported}
        assert not missing, missing
        # ... and so does every alert (`up` is Prometheus's own, for a worker that does not answer)
        unknown = {alert: sorted(series_in(expr) - exported - {"up"}) for alert, expr in alert_queries().items()
                   if series_in(expr) - exported - {"up"}}
        assert not unknown, unknown

        # A worker killed outright: its connections end, and stop counting
        holding = pids_in(folder, "gauge_livesum_*.db")
        assert holding
        victim = sorted(holding)[0]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while True:
            await asyncio.sleep(0.3)
            still_open = sum(1 for c in clients if c.closed is None)
            try:
                text = scrape(server.url)
            except httpx.HTTPError:  # the scrape reached the dying worker: again
                continue
            if still_open < len(clients) and total(text, "congress_connections") == still_open:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"connections still counted after SIGKILL: {still_open} open, "
                                     f"metrics say {total(text, 'congress_connections')}")
        assert victim not in pids_in(folder, "gauge_livesum_*.db")
        assert total(text, "congress_ballots_acknowledged_total") == n  # what it counted is not lost
    finally:
        for client in clients:
            if client.closed is None:
                await client.close()
        server.stop()
