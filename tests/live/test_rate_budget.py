"""One rate budget per person across all their websockets and HTTP requests (issue 18, point 7),
through a real server and real websocket clients, on SQLite and PostgreSQL.

The server runs at 0.5 commands a second (a full bucket: one command), so what a burst gets is
bounded by 1 + 0.5 × the seconds it took, however slow the machine; one budget per socket gave a
burst across ten sockets at least ten. No assertion depends on how fast anything runs.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from congress.actions.base import Context
from congress.actions.proposals import draft_proposal
from congress.application.auth import delegate_actor
from congress.application.service import system_clock
from congress.db.engine import Database
from congress.db.migrate import upgrade
from congress.db.models import Delegate, Proposal
from congress.settings import Settings
from tests.conftest import create_pg_database, drop_pg_database
from tests.story import LiveClient, LiveServer, Story, build_story, sign_in

pytestmark = pytest.mark.anyio

RATE = 0.5  # commands a second for a delegate
BURST = 1.0  # what a full bucket holds (two seconds of the rate)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Stage:
    db: Database
    story: Story
    server: LiveServer
    spare: list[Delegate]
    clients: list[LiveClient] = field(default_factory=list)

    def take(self) -> Delegate:
        return self.spare.pop()

    def sign_in(self, delegate: Delegate) -> tuple[str, str]:
        return sign_in(self.server.url, {"employee_id": delegate.employee_id,
                                         "code": self.story.codes[delegate.employee_id],
                                         "congress_id": self.story.congress_id})

    async def socket(self, cookie: str) -> LiveClient:
        client = LiveClient(self.server.ws_url, self.story.congress_id, cookie)
        self.clients.append(client)
        assert (await client.connect())["msg"] == "hello"
        return client

    def post(self, cookie: str, csrf: str, op: str, **body: Any) -> httpx.Response:
        return httpx.post(f"{self.server.url}/api/congresses/{self.story.congress_id}/commands/{op}", json=body,
                          cookies={"congress_session": cookie}, headers={"x-csrf-token": csrf}, timeout=30)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stage(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stage]:
    url = (f"sqlite:///{tmp_path_factory.mktemp('budget') / 'congress.db'}" if request.param == "sqlite"
           else create_pg_database())
    db = Database(url)
    server: LiveServer | None = None
    try:
        upgrade(url)
        story = build_story(db)
        server = LiveServer(Settings(database_url=url, port=0, commands_per_second=RATE)).start()
        yield Stage(db, story, server, list(story.voting()))
    finally:
        if server is not None:
            server.stop()
        db.dispose()
        if request.param == "postgresql":
            drop_pg_database(url)


@pytest.fixture
async def live(stage: Stage) -> Any:
    yield stage
    await asyncio.gather(*(c.close() for c in stage.clients), return_exceptions=True)
    stage.clients.clear()


async def send(client: LiveClient, op: str, command_id: str, **args: Any) -> None:
    assert client.ws is not None
    await client.ws.send(json.dumps({"op": op, "id": command_id, **args}))


async def test_ten_sockets_of_one_delegate_together_get_one_persons_budget(live: Stage) -> None:
    cookie, _csrf = live.sign_in(live.take())
    sockets = [await live.socket(cookie) for _ in range(10)]
    started = time.monotonic()
    for round_ in range(3):  # 30 reads, spread over the ten sockets
        for n, client in enumerate(sockets):
            await send(client, "proposal_board", f"s{n}-r{round_}")
    for n, client in enumerate(sockets):
        await client.wait_for(lambda c=client, n=n: all(f"s{n}-r{r}" in c.replies for r in range(3)), timeout=30)
    elapsed = time.monotonic() - started
    replies = [r for c in sockets for r in c.replies.values()]
    limited = [r for r in replies if r.get("code") == "rate_limited"]
    accepted = [r for r in replies if r["msg"] == "ack"]
    assert len(replies) == 30 and len(accepted) + len(limited) == 30
    # One person's budget: what a full bucket holds plus what refilled meanwhile (one bucket per
    # socket let at least one command through on each of the ten).
    assert 1 <= len(accepted) <= BURST + RATE * elapsed + 1e-9, (len(accepted), elapsed)
    assert all(r["id"] and r["retry_after"] > 0 for r in limited)  # refused by id, with a hint
    assert all(c.closed is None for c in sockets)  # a few refusals are not a reason to close


async def test_http_and_the_websocket_spend_the_same_budget(live: Stage) -> None:
    # HTTP first: the budget is spent, and the socket is refused.
    cookie, csrf = live.sign_in(live.take())
    client = await live.socket(cookie)
    assert live.post(cookie, csrf, "proposal_board").status_code == 200
    refused = live.post(cookie, csrf, "proposal_board")
    assert refused.status_code == 429
    assert (await client.command("proposal_board", "after-http"))["code"] == "rate_limited"

    # The socket first: HTTP is refused.
    cookie, csrf = live.sign_in(live.take())
    client = await live.socket(cookie)
    assert (await client.command("proposal_board", "first"))["msg"] == "ack"
    after_ws = live.post(cookie, csrf, "proposal_board")
    assert after_ws.status_code == 429 and after_ws.json()["error"]["code"] == "rate_limited"


async def test_a_person_over_budget_opens_no_new_socket_until_it_refills(live: Stage) -> None:
    cookie, csrf = live.sign_in(live.take())
    assert live.post(cookie, csrf, "proposal_board").status_code == 200
    assert live.post(cookie, csrf, "proposal_board").status_code == 429
    refused = LiveClient(live.server.ws_url, live.story.congress_id, cookie)
    live.clients.append(refused)
    error = await refused.connect()
    # (answered when a retry could succeed, up to a second later: so retry_after may be 0 by then)
    assert error["msg"] == "error" and error["code"] == "rate_limited" and error["retry_after"] >= 0
    await refused.wait_for(lambda: refused.closed is not None)
    assert refused.closed is not None and refused.closed[0] == 1013  # Try Again Later: clients back off
    await asyncio.sleep(error["retry_after"])
    assert (await live.socket(cookie)).hello["role"] == "delegate"


async def test_an_http_flood_of_drafts_gets_429_with_an_honest_retry_after(live: Stage) -> None:
    delegate = live.take()
    cookie, csrf = live.sign_in(delegate)
    responses = [live.post(cookie, csrf, "draft_proposal", title=f"灌水 {n}", reason="案由", suggestion="建议")
                 for n in range(8)]
    accepted = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code == 429]
    assert accepted and refused and len(accepted) + len(refused) == 8
    for response in refused:
        error = response.json()["error"]
        # answered when a retry could succeed (held up to a second), so what is left may be 0
        assert error["code"] == "rate_limited" and error["retry_after"] >= 0 and "秒后再试" in error["message"]
        assert int(response.headers["retry-after"]) >= 1
    with live.db.read() as session:  # a refused request wrote nothing
        assert session.scalar(sa.select(sa.func.count()).select_from(Proposal).where(
            Proposal.proposer_id == delegate.id)) == len(accepted)
    # Waiting as told is enough.
    await asyncio.sleep(int(refused[-1].headers["retry-after"]))
    assert live.post(cookie, csrf, "draft_proposal", title="等了一会儿", reason="案由", suggestion="建议").status_code == 200


async def test_the_21st_draft_is_refused_over_http_and_the_websocket(live: Stage) -> None:
    delegate = live.take()
    with live.db.write() as session:  # twenty drafts already (the HTTP budget would take 40 s)
        for n in range(20):
            draft_proposal(Context(session, delegate_actor(delegate), system_clock()), live.story.congress_id,
                           f"草稿 {n}", "案由", "建议")
    cookie, csrf = live.sign_in(delegate)
    refused = live.post(cookie, csrf, "draft_proposal", title="第二十一件", reason="案由", suggestion="建议")
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "draft_limit" and "20 份" in refused.json()["error"]["message"]
    await asyncio.sleep(2 / RATE)  # the budget refilled: what refuses now is the cap
    client = await live.socket(cookie)
    reply = await client.command("draft_proposal", "d21", title="第二十一件", reason="案由", suggestion="建议")
    assert reply["code"] == "draft_limit", reply
    with live.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Proposal).where(
            Proposal.proposer_id == delegate.id)) == 20
