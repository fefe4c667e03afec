"""/healthz and /readyz as nginx, systemd or an orchestrator probe them (issue 17 point 1), against a
real uvicorn server: on SQLite and PostgreSQL; with a PRIVATE Redis the server uses, stopped and
started again; with a PRIVATE PostgreSQL cluster the server uses, stopped and started again. A
probe needs no cookie and no CSRF token, and /readyz names the check that fails.
"""

from __future__ import annotations

import time

import httpx

from congress.db.migrate import upgrade
from congress.settings import Settings
from tests.private_services import PrivatePostgres, PrivateRedis
from tests.private_services import postgres as postgres  # the private cluster fixture
from tests.private_services import private_redis as private_redis  # the private Redis fixture
from tests.story import LiveServer


def readyz(base: str) -> httpx.Response:
    return httpx.get(f"{base}/readyz", timeout=30)


def readyz_until(base: str, status: int, seconds: float = 30) -> httpx.Response:
    """Probe again until /readyz answers `status` (it follows a fault or a recovery within seconds)."""
    deadline = time.monotonic() + seconds
    while True:
        response = readyz(base)
        if response.status_code == status:
            return response
        if time.monotonic() > deadline:
            raise AssertionError(f"/readyz never answered {status}; last: {response.status_code} {response.text}")
        time.sleep(0.2)


def test_healthz_and_readyz_answer_a_probe_without_cookie_and_readyz_names_draining(database_url: str) -> None:
    server = LiveServer(Settings(database_url=database_url, port=0)).start()
    try:
        with httpx.Client(timeout=30) as http:  # a fresh client: no cookie, no CSRF token
            health = http.get(f"{server.url}/healthz")
            assert health.status_code == 200, health.text
            assert health.json() == {"status": "ok"}
            assert "set-cookie" not in health.headers
            assert health.headers["cache-control"] == "no-store"

            ready = http.get(f"{server.url}/readyz")
            assert ready.status_code == 200, ready.text
            body = ready.json()
            assert body["status"] == "ready"
            assert body["checks"] == {"database": "ok", "draining": "ok"}  # no Redis configured: not checked
            assert "set-cookie" not in ready.headers
            assert http.head(f"{server.url}/healthz").status_code == 200

            # SIGTERM sets this flag (congress.live.drain); the load balancer must stop choosing the worker
            app = server.server.config.app
            app.state.draining = True
            try:
                draining = http.get(f"{server.url}/readyz")
                assert draining.status_code == 503, draining.text
                assert draining.json()["status"] == "not_ready"
                assert [f["check"] for f in draining.json()["failing"]] == ["draining"]
                assert http.get(f"{server.url}/healthz").status_code == 200  # alive all the same
            finally:
                app.state.draining = False
            assert http.get(f"{server.url}/readyz").status_code == 200
    finally:
        server.stop()


def test_readyz_names_redis_while_the_servers_redis_is_stopped_and_recovers(
        database_url: str, private_redis: PrivateRedis) -> None:
    server = LiveServer(Settings(database_url=database_url, redis_url=private_redis.url, port=0)).start()
    try:
        ready = readyz(server.url)
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"database": "ok", "redis": "ok", "draining": "ok"}

        private_redis.stop()
        down = readyz_until(server.url, 503)
        failing = down.json()["failing"]
        assert [f["check"] for f in failing] == ["redis"], failing
        assert failing[0]["error"]  # what went wrong, in words
        assert down.json()["checks"]["database"] == "ok"
        assert httpx.get(f"{server.url}/healthz", timeout=30).status_code == 200

        private_redis.start()  # the same port: the server's client reconnects by itself
        back = readyz_until(server.url, 200)
        assert back.json()["status"] == "ready"
    finally:
        server.stop()


def test_readyz_names_the_database_while_its_postgresql_is_stopped_and_recovers(postgres: PrivatePostgres) -> None:
    upgrade(postgres.url)
    server = LiveServer(Settings(database_url=postgres.url, port=0)).start()
    try:
        assert readyz(server.url).status_code == 200

        postgres.stop()
        down = readyz(server.url)
        assert down.status_code == 503, down.text
        failing = down.json()["failing"]
        assert [f["check"] for f in failing] == ["database"], failing
        assert failing[0]["error"]
        assert httpx.get(f"{server.url}/healthz", timeout=30).status_code == 200

        postgres.start()
        back = readyz_until(server.url, 200)
        assert back.json()["checks"]["database"] == "ok"
    finally:
        server.stop()
