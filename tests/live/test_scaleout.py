"""Two real worker processes (`congress serve` subprocesses) sharing one PostgreSQL database and
Redis: an event committed through one worker reaches clients of the other, in seq order, and a
client resumes on either worker with exactly the events it missed."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from congress.db.engine import Database
from congress.db.migrate import upgrade
from congress.live.backplane import deployment_channel
from congress.ops.server_process import ServerProcess, serve_argv
from tests.conftest import REDIS_URL, create_pg_database, drop_pg_database, require_redis
from tests.story import LiveClient, Story, build_story, free_port, sign_in

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CONGRESS_")}


@dataclass
class Deployment:
    db: Database
    story: Story
    workers: list[ServerProcess]
    staff_cookie: str


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    require_redis()
    tmp_path = tmp_path_factory.mktemp("scaleout")
    url = create_pg_database()
    db = Database(url)
    workers: list[ServerProcess] = []
    try:
        upgrade(url)
        story = build_story(db)
        with ThreadPoolExecutor(2) as pool:  # started together; each answers before the test goes on
            started = [pool.submit(ServerProcess, url, tmp_path / f"worker{i}.log", redis_url=REDIS_URL,
                                   clean_env=True, cwd=tmp_path) for i in (1, 2)]
        workers = [future.result() for future in started if future.exception() is None]  # stopped below
        for future in started:
            future.result()  # a worker that did not start: its log, after the other is kept for stopping
        cookie, _ = sign_in(workers[0].url, {"login": "staff", "password": story.staff_password})
        yield Deployment(db, story, workers, cookie)
    finally:
        for worker in workers:
            worker.stop(signal.SIGTERM, 15)
        db.dispose()
        drop_pg_database(url)


async def test_events_through_one_worker_reach_the_other_and_resume_on_either(deployment: Deployment) -> None:
    one, two = deployment.workers
    story = deployment.story
    staff = LiveClient(one.ws_url, story.congress_id, deployment.staff_cookie)
    observer = LiveClient(two.ws_url, story.congress_id)
    console = LiveClient(two.ws_url, story.congress_id, deployment.staff_cookie)  # staff, on worker 2
    clients = [staff, observer, console]
    try:
        for client in clients:
            await client.connect()
        start = staff.hello["seq"]
        delegates = story.voting()

        async def act(*employee_ids: str) -> int:
            for employee_id in employee_ids:
                assert (await staff.command("check_in_at_desk", employee_id=employee_id))["msg"] == "ack"
            reply = await staff.command("set_current_item", item_id=story.agenda[0]["id"])
            assert reply["msg"] == "ack", reply
            return staff.seq

        head = await act(delegates[0].employee_id, delegates[1].employee_id)
        await observer.wait_for(lambda: observer.seq == head)
        await console.wait_for(lambda: console.seq == head)
        assert console.events == staff.events  # every event, same order, across processes
        assert [e["seq"] for e in staff.events] == list(range(start + 1, head + 1))
        public = [e for e in staff.events if not e["type"].startswith("attendance.")]  # observers: 实到 coalesced
        assert observer.events == public

        # Both leave; more happens on worker 1; each comes back on the other worker.
        left_at = head
        await observer.close()
        await console.close()
        head = await act(delegates[2].employee_id)
        missed = [e for e in staff.events if e["seq"] > left_at]
        observer_back = LiveClient(one.ws_url, story.congress_id)
        console_back = LiveClient(one.ws_url, story.congress_id, deployment.staff_cookie)
        clients += [observer_back, console_back]
        assert (await observer_back.connect(since=left_at))["resumed"] is True
        assert (await console_back.connect(since=left_at))["resumed"] is True
        await observer_back.wait_for(lambda: observer_back.seq == head)
        await console_back.wait_for(lambda: console_back.seq == head)
        assert console_back.events == missed
        assert observer_back.events == [e for e in missed if not e["type"].startswith("attendance.")]

        # And a client of worker 2 resuming after events committed on worker 1 while it was away.
        await observer_back.close()
        head = await act(delegates[3].employee_id)
        resumed = LiveClient(two.ws_url, story.congress_id, deployment.staff_cookie)
        clients.append(resumed)
        assert (await resumed.connect(since=missed[-1]["seq"]))["resumed"] is True
        await resumed.wait_for(lambda: resumed.seq == head)
        assert resumed.events == [e for e in staff.events if e["seq"] > missed[-1]["seq"]]
    finally:
        for client in clients:
            await client.close()


def test_workers_of_one_deployment_share_a_channel_no_other_deployment_uses(deployment: Deployment,
                                                                            tmp_path: Path) -> None:
    channel = deployment_channel(deployment.db)
    listeners = dict(redis.Redis.from_url(REDIS_URL).pubsub_numsub(channel))
    assert listeners[channel.encode()] == 2  # both workers
    other_url = f"sqlite:///{tmp_path / 'other.db'}"  # another deployment, with its own congress 1
    upgrade(other_url)
    other = Database(other_url)
    try:
        assert deployment_channel(other) != channel
    finally:
        other.dispose()


def test_serve_with_two_workers_and_no_redis_exits_with_a_clear_message(tmp_path: Path) -> None:
    result = subprocess.run(serve_argv(f"sqlite:///{tmp_path / 'x.db'}", free_port(), workers=2),
                            capture_output=True, text=True, env=_env(), cwd=tmp_path, timeout=60)
    assert result.returncode != 0
    assert "Redis" in result.stderr
