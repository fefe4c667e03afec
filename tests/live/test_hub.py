"""The live hub through a real server (uvicorn on a free port) and real `websockets` clients, on
SQLite and PostgreSQL: ordered delivery, resume by seq, resync of slow clients, refusals that keep
the connection, idempotent resends, audiences, rollback, presence.

One story per database kind is built for the module (argon2 makes each build take seconds); every
test takes its own delegates from a pool, so tests do not depend on each other's order.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from congress.actions.attendance import check_in_at_desk
from congress.actions.base import Context
from congress.actions.setup import create_congress, set_rules
from congress.application.service import system_clock
from congress.db.engine import Database
from congress.db.migrate import upgrade
from congress.db.models import Attendance, Congress, Delegate
from congress.settings import Settings
from tests.conftest import create_pg_database, drop_pg_database
from tests.story import SETUP, LiveClient, LiveServer, Story, build_story, sign_in

pytestmark = pytest.mark.anyio

RESUME_WINDOW = 5
PRIVATE_TYPES = {"attendance.checked_in", "vote.created", "ballot.recorded", "group_count.entered", "vote.tallied"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Stage:
    """One database with the story's congress (quorum present), a server, and staff signed in."""

    url: str
    db: Database
    story: Story
    server: LiveServer
    staff_cookie: str
    spare: list[Delegate]  # voting delegates not checked in: handed out to tests one by one
    other_congress_id: int  # an empty second congress, for tests that need their own server
    clients: list[LiveClient] = field(default_factory=list)

    def take(self, count: int, *, not_in_group: int | None = None) -> list[Delegate]:
        chosen = [d for d in self.spare if d.group_id != not_in_group][:count]
        assert len(chosen) == count, "the pool of spare delegates ran out"
        for d in chosen:
            self.spare.remove(d)
        return chosen

    def head(self, congress_id: int | None = None) -> int:
        with self.db.read() as session:
            return session.scalar(sa.select(Congress.last_seq).where(
                Congress.id == (congress_id or self.story.congress_id))) or 0

    def client(self, cookie: str | None = None, server: LiveServer | None = None,
               congress_id: int | None = None) -> LiveClient:
        client = LiveClient((server or self.server).ws_url, congress_id or self.story.congress_id, cookie)
        self.clients.append(client)
        return client

    def delegate_cookie(self, delegate: Delegate) -> str:
        cookie, _ = sign_in(self.server.url, {"employee_id": delegate.employee_id,
                                              "code": self.story.codes[delegate.employee_id],
                                              "congress_id": self.story.congress_id})
        return cookie


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stage(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stage]:
    url = (f"sqlite:///{tmp_path_factory.mktemp('hub') / 'congress.db'}" if request.param == "sqlite"
           else create_pg_database())
    db = Database(url)
    server: LiveServer | None = None
    try:
        upgrade(url)
        story = build_story(db)
        with db.write() as session:
            ctx = Context(session, SETUP, system_clock())
            # A quorum of one in ten keeps the setup short: the first voting delegate of each
            # group is present (30 are needed); the rest are spare for the tests to check in.
            set_rules(ctx, story.congress_id, {"quorum": "1/10"})
            present = [d for d in story.voting() if d.id % 8 == 0 or d.is_group_leader]
            for d in present:
                check_in_at_desk(ctx, story.congress_id, d.employee_id)
            other_id = create_congress(ctx, "测试：另一次会议", ["主会场"]).id
        spare = [d for d in story.voting() if d not in present]
        server = LiveServer(Settings(database_url=url, port=0, resume_window=RESUME_WINDOW)).start()
        cookie, _ = sign_in(server.url, {"login": "staff", "password": story.staff_password})
        yield Stage(url, db, story, server, cookie, list(spare), other_id)
    finally:
        if server is not None:
            server.stop()
        db.dispose()
        if request.param == "postgresql":
            drop_pg_database(url)


@pytest.fixture
async def live(stage: Stage) -> Any:
    """The stage for one test; every client the test opened is closed afterwards."""
    yield stage
    await asyncio.gather(*(c.close() for c in stage.clients), return_exceptions=True)
    stage.clients.clear()


# -- helpers -------------------------------------------------------------------------------------
async def ack(client: LiveClient, op: str, **args: Any) -> dict[str, Any]:
    reply = await client.command(op, **args)
    assert reply["msg"] == "ack", reply
    return reply["result"]


async def marker(stage: Stage, staff: LiveClient, *clients: LiveClient) -> dict[str, Any]:
    """A public event that every client must receive: everything before it has been delivered."""
    await ack(staff, "set_current_item", item_id=stage.story.agenda[0]["id"])
    event = staff.events[-1]  # a reply follows the events it caused on the same connection
    assert event["type"] == "agenda.current_changed"
    for client in clients:
        await client.wait_for(lambda c=client: c.seq >= event["seq"])
    return event


async def ping(client: LiveClient, ping_id: str) -> None:
    assert client.ws is not None
    await client.ws.send(json.dumps({"op": "ping", "id": ping_id}))
    await client.wait_for(lambda: any(m.get("msg") == "pong" and m.get("id") == ping_id for m in client.ephemeral))


def seqs(client: LiveClient) -> list[int]:
    return [e["seq"] for e in client.events]


# -- ordered delivery and resume -----------------------------------------------------------------
async def test_two_clients_see_the_same_events_in_the_same_order(live: Stage) -> None:
    first, second = live.client(live.staff_cookie), live.client(live.staff_cookie)
    observer = live.client()
    for client in (first, second, observer):
        await client.connect()
    start = first.hello["seq"]
    # Both staff consoles check delegates in at once: their commands share group commits.
    await asyncio.gather(*(ack(desk, "check_in_at_desk", employee_id=d.employee_id)
                           for desk, d in zip([first, second] * 3, live.take(6), strict=True)))
    last = await marker(live, first, first, second, observer)

    assert first.events == second.events
    assert seqs(first) == list(range(start + 1, last["seq"] + 1))
    # The observer sees the public part of the same stream, in the same order.
    by_seq = {e["seq"]: e for e in first.events}
    assert [by_seq[e["seq"]] for e in observer.events] == observer.events
    assert seqs(observer) == sorted(seqs(observer))
    assert [e["type"] for e in observer.events] == ["agenda.current_changed"]
    # 实到 reaches the observer as coalesced numbers, not as six events.
    present = by_seq[max(e["seq"] for e in first.events if e["type"] == "attendance.changed")]["payload"]["present"]
    await observer.wait_for(lambda: any(m.get("msg") == "attendance" and m["present"] == present
                                        for m in observer.ephemeral))
    # ... and those events went out as frames built once and written straight to each socket
    # (congress.live.frames), interleaved with uvicorn's own writes of hellos and replies.
    hub = live.server.server.config.app.state.service.hub
    assert hub.connections[live.story.congress_id] and all(c.raw for c in hub.connections[live.story.congress_id])


async def test_reconnect_with_since_gets_exactly_the_missed_events(live: Stage) -> None:
    staff, watcher, observer = live.client(live.staff_cookie), live.client(live.staff_cookie), live.client()
    for client in (staff, watcher, observer):
        await client.connect()
    await marker(live, staff, watcher, observer)
    left_at = watcher.seq
    assert observer.seq == left_at
    await watcher.close()
    await observer.close()

    for d in live.take(2):  # two check-ins: four events, two of them public
        await ack(staff, "check_in_at_desk", employee_id=d.employee_id)
    missed = [e for e in staff.events if e["seq"] > left_at]
    assert len(missed) == 4 and live.head() == missed[-1]["seq"]

    back = live.client(live.staff_cookie)
    hello = await back.connect(since=left_at)
    assert hello["resumed"] is True and hello["since"] == left_at and "snapshot" not in hello
    observer_back = live.client()
    assert (await observer_back.connect(since=left_at))["resumed"] is True
    last = await marker(live, staff, back, observer_back)

    assert back.events == [*missed, last]  # no fewer, no more, in order
    assert observer_back.events == [last]  # the check-ins' numbers come coalesced, not as events


async def test_a_client_resuming_with_everything_delivered_gets_what_follows_and_nothing_twice(live: Stage) -> None:
    """A reconnect storm's case: the client holds the last delivered seq (served from the hub, no read)."""
    staff, observer = live.client(live.staff_cookie), live.client()
    await staff.connect()
    await observer.connect()
    await marker(live, staff, observer)
    held = observer.seq
    await observer.close()

    back = live.client()
    hello = await back.connect(since=held)
    assert hello["resumed"] is True and hello["since"] == held and hello["seq"] == held and "snapshot" not in hello
    desk = live.take(1)[0]
    await ack(staff, "check_in_at_desk", employee_id=desk.employee_id)
    last = await marker(live, staff, back)
    public = [e for e in staff.events if e["seq"] > held and e["type"] == "agenda.current_changed"]
    assert back.events == public and back.events[-1] == last and seqs(back) == sorted(set(seqs(back)))


async def test_resume_from_too_far_back_gets_a_fresh_snapshot_at_the_head(live: Stage) -> None:
    staff, watcher = live.client(live.staff_cookie), live.client(live.staff_cookie)
    await staff.connect()
    await watcher.connect()
    left_at = watcher.hello["seq"]
    await watcher.close()
    for d in live.take(3):  # six events: more than the resume window of five
        await ack(staff, "check_in_at_desk", employee_id=d.employee_id)
    assert live.head() - left_at > RESUME_WINDOW

    back = live.client(live.staff_cookie)
    hello = await back.connect(since=left_at)
    assert hello["resumed"] is False and hello["seq"] == live.head()
    assert hello["snapshot"]["attendance"] == staff.events[-2]["payload"]  # the latest counts
    last = await marker(live, staff, back)
    assert back.events == [last]  # nothing replayed on top of the snapshot


async def test_slow_client_is_cut_off_with_resync_while_others_receive_everything(live: Stage) -> None:
    """A client that stops reading fills its bounded queue and is closed with 4001; it resumes."""
    congress_id = live.other_congress_id
    server = LiveServer(Settings(database_url=live.url, port=0, send_queue_size=8))
    server.server.config.ws_ping_interval = None  # the hub, not a keepalive timeout, must cut it off
    server.start()
    slow = None
    try:
        staff = live.client(live.staff_cookie, server, congress_id)
        observer = live.client(None, server, congress_id)
        await staff.connect()
        await observer.connect()
        # The slow one: a reader that never runs, and no compression (so the bytes are real).
        slow = await connect(f"{server.ws_url}?congress={congress_id}", max_queue=1, compression=None)
        hello = json.loads(await slow.recv())
        assert hello["msg"] == "hello"

        # 150 agenda items of ~60 KB each: ~9 MB, far beyond what socket buffers absorb. Sent five
        # at a time, so that a group commit's burst stays within what a reading client may queue.
        description = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(20000))
        assert staff.ws is not None
        for chunk in range(0, 150, 5):
            ids = [f"big-{i}" for i in range(chunk, chunk + 5)]
            for command_id in ids:
                await staff.ws.send(json.dumps({"op": "add_agenda_item", "id": command_id, "kind": "审议",
                                                "title": command_id, "description": description},
                                               ensure_ascii=False))
            await staff.wait_for(lambda ids=ids: all(i in staff.replies for i in ids))
            assert all(staff.replies[i]["msg"] == "ack" for i in ids)
        head = live.head(congress_id)
        await observer.wait_for(lambda: observer.seq == head)
        await staff.wait_for(lambda: staff.seq == head)
        assert seqs(observer) == list(range(hello["seq"] + 1, head + 1))  # the others got everything
        assert observer.closed is None and staff.closed is None

        got: list[dict[str, Any]] = []
        with pytest.raises(ConnectionClosed):
            while True:  # now read what the server managed to send before it gave up
                message = json.loads(await slow.recv())
                if message.get("msg") == "event":
                    got.append(message)
                elif message.get("msg") == "events":  # a burst, as observers get it
                    got.extend(message["events"])
        assert slow.close_code == 4001
        assert [e["seq"] for e in got] == list(range(hello["seq"] + 1, hello["seq"] + 1 + len(got)))
        assert len(got) < head - hello["seq"]

        resumed = live.client(None, server, congress_id)
        since = got[-1]["seq"] if got else hello["seq"]
        assert (await resumed.connect(since=since))["resumed"] is True
        await resumed.wait_for(lambda: resumed.seq == head)
        assert seqs(resumed) == list(range(since + 1, head + 1))
    finally:
        if slow is not None:
            await slow.close()
        await asyncio.gather(*(c.close() for c in live.clients), return_exceptions=True)
        server.stop()


async def test_server_shutdown_closes_connections_with_restart_code(live: Stage) -> None:
    server = LiveServer(Settings(database_url=live.url, port=0)).start()
    try:
        observer = live.client(None, server, live.other_congress_id)
        await observer.connect()
    finally:
        server.stop()
    await observer.wait_for(lambda: observer.closed is not None)
    assert observer.closed is not None and observer.closed[0] == 1012


# -- refusals that keep the connection -------------------------------------------------------------
async def test_observer_write_is_refused_read_only_and_the_connection_stays_open(live: Stage) -> None:
    observer = live.client()
    await observer.connect()
    head = live.head()
    delegate = live.take(1)[0]
    reply = await observer.command("check_in_at_desk", employee_id=delegate.employee_id)
    assert reply["msg"] == "error" and reply["code"] == "read_only", reply
    await ping(observer, "still-there")
    assert observer.closed is None
    assert live.head() == head
    with live.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Attendance)
                              .where(Attendance.delegate_id == delegate.id)) == 0


async def test_malformed_unknown_and_non_object_frames_get_errors_and_the_connection_stays_open(
        live: Stage) -> None:
    observer = live.client()
    await observer.connect()
    assert observer.ws is not None
    for frame in ["{not json", "[1, 2, 3]", '"just text"', '{"id": "no-op-field"}']:
        await observer.ws.send(frame)
    unknown = await observer.command("no_such_op")
    await ping(observer, "after-errors")
    errors = [m["code"] for m in observer.ephemeral if m.get("msg") == "error"]
    assert errors == ["bad_json", "bad_request", "bad_request", "bad_request"]
    assert unknown["msg"] == "error" and unknown["code"] == "unknown_op"
    assert observer.closed is None


async def test_oversized_frame_closes_with_1009(live: Stage) -> None:
    observer = live.client()
    await observer.connect()
    assert observer.ws is not None
    await observer.ws.send(json.dumps({"op": "ping", "id": "big", "pad": "x" * (Settings().max_frame_bytes + 1)}))
    await observer.wait_for(lambda: observer.closed is not None)
    assert observer.closed is not None and observer.closed[0] == 1009


async def test_flood_is_rate_limited_then_closed_with_policy_and_the_server_carries_on(live: Stage) -> None:
    flooder = live.client()
    await flooder.connect()
    assert flooder.ws is not None
    try:
        for i in range(300):
            await flooder.ws.send(json.dumps({"op": "ping", "id": f"f{i}"}))
    except ConnectionClosed:
        pass
    await flooder.wait_for(lambda: flooder.closed is not None)
    assert flooder.closed is not None and flooder.closed[0] == 1008
    assert any(r["code"] == "rate_limited" for r in flooder.replies.values())
    assert any(m.get("msg") == "pong" for m in flooder.ephemeral)  # the burst allowance was served
    after = live.client()
    assert (await after.connect())["msg"] == "hello"
    await ping(after, "server-alive")


# -- idempotence, audiences, rollback, presence ---------------------------------------------------
async def test_resent_command_after_reconnect_gets_the_first_result_and_is_applied_once(live: Stage) -> None:
    delegate = live.take(1)[0]
    cookie = live.delegate_cookie(delegate)
    first = live.client(cookie)
    await first.connect()
    original = await first.command("check_in", command_id="check-in-once")
    assert original["msg"] == "ack", original
    await first.close()

    again = live.client(cookie)
    await again.connect(since=first.seq)
    resent = await again.command("check_in", command_id="check-in-once")
    assert resent == original
    staff = live.client(live.staff_cookie)
    await staff.connect()
    last = await marker(live, staff, again)
    assert again.events == [last]  # the resend appended no event
    with live.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Attendance)
                              .where(Attendance.delegate_id == delegate.id)) == 1


async def test_each_viewer_receives_only_the_events_of_its_audience(live: Stage) -> None:
    story = live.story
    hand_group = story.delegates[-1].group_id  # the last group counts by show of hands
    a, b = live.take(2, not_in_group=hand_group)
    c = next(d for d in story.voting(hand_group) if d not in live.spare)
    staff, observer = live.client(live.staff_cookie), live.client()
    mine = {d.id: live.client(live.delegate_cookie(d)) for d in (a, b, c)}
    for client in (staff, observer, *mine.values()):
        await client.connect()

    for d in (a, b):
        await ack(staff, "check_in_at_desk", employee_id=d.employee_id)
    vote = await ack(staff, "create_vote", agenda_item_id=story.agenda[1]["id"], title="受众测试",
                     questions=[{"kind": "yes_no", "text": "是否同意"}], hand_count_groups=[hand_group])
    qid = str(vote["questions"][0]["id"])
    await ack(staff, "open_vote", vote_id=vote["id"])
    for d in (a, b):
        await ack(mine[d.id], "cast_ballot", vote_id=vote["id"], answers={qid: "yes"})
    await ack(staff, "enter_group_count", vote_id=vote["id"], group_id=hand_group, method="show_of_hands",
              present=1, questions={qid: {"counts": {"yes": 1}}}, scrutineer="刘志强")
    await ack(staff, "close_vote", vote_id=vote["id"])
    await marker(live, staff, observer, *mine.values())

    def types(client: LiveClient) -> list[str]:
        return [e["type"] for e in client.events]

    assert PRIVATE_TYPES <= set(types(staff))
    assert not PRIVATE_TYPES & set(types(observer))
    assert {"vote.opened", "vote.closed"} <= set(types(observer))
    # Check-ins: every delegate and staff get each change; observers only the coalesced numbers.
    assert "attendance.changed" in types(mine[a.id]) and "attendance.changed" not in types(observer)
    for d in (a, b):
        client = mine[d.id]
        assert [e["payload"]["delegate_id"] for e in client.events if e["type"] == "attendance.checked_in"] == [d.id]
        assert types(client).count("ballot.recorded") == 1  # their own ballot only
        assert not {"vote.created", "vote.tallied", "group_count.entered"} & set(types(client))
    assert "group_count.entered" in types(mine[c.id])  # their group's count
    assert not {"attendance.checked_in", "ballot.recorded", "vote.tallied"} & set(types(mine[c.id]))
    for client in (staff, observer, *mine.values()):
        assert seqs(client) == sorted(set(seqs(client)))


async def test_refused_commands_publish_nothing_and_keep_the_seq(live: Stage) -> None:
    story = live.story
    outsider = live.take(1)[0]  # not checked in: may not vote
    staff, observer = live.client(live.staff_cookie), live.client()
    voter = live.client(live.delegate_cookie(outsider))
    for client in (staff, observer, voter):
        await client.connect()
    vote = await ack(staff, "create_vote", agenda_item_id=story.agenda[2]["id"], title="回滚测试",
                     questions=[{"kind": "yes_no", "text": "是否同意"}])
    await ack(staff, "open_vote", vote_id=vote["id"])
    await marker(live, staff, observer, voter)
    head = live.head()
    counts = {id(c): len(c.events) for c in (staff, observer, voter)}

    refused = await voter.command("cast_ballot", vote_id=vote["id"], answers={str(vote["questions"][0]["id"]): "yes"})
    assert refused["msg"] == "error" and refused["code"] == "not_checked_in", refused
    again = await staff.command("open_vote", vote_id=vote["id"])
    assert again["msg"] == "error" and again["code"] == "bad_vote_state", again
    assert live.head() == head

    last = await marker(live, staff, observer, voter)
    assert last["seq"] == head + 1
    for client in (staff, observer, voter):
        assert client.events[counts[id(client)]:] == [last]
    await ack(staff, "cancel_vote", vote_id=vote["id"], reason="测试结束")


async def test_presence_counts_the_connected_observers(live: Stage) -> None:
    observers = [live.client() for _ in range(3)]
    for client in observers:
        await client.connect()

    def latest_count(client: LiveClient) -> int | None:
        counts = [m["observers"] for m in client.ephemeral if m.get("msg") == "presence"]
        return counts[-1] if counts else None

    await observers[0].wait_for(lambda: latest_count(observers[0]) == 3)
    await observers[2].close()
    await observers[0].wait_for(lambda: latest_count(observers[0]) == 2)


async def test_switching_watching_off_refuses_the_next_observer_at_once(live: Stage) -> None:
    """Observers of an open congress are admitted from memory; switching off must end that at once."""
    staff, first = live.client(live.staff_cookie), live.client()
    await staff.connect()
    assert (await first.connect())["msg"] == "hello"  # the congress is now known to be open
    try:
        await ack(staff, "set_watch", mode="off")
        refused = await live.client().connect()
        assert refused["msg"] == "error" and refused["code"] == "refused" and "switched off" in refused["message"]
        issued = await ack(staff, "set_watch", mode="token")  # the server makes the link's secret
        assert len(issued["token"]) >= 16
        assert (await live.client().connect())["message"] == "watch token required"
    finally:
        await ack(staff, "set_watch", mode="open")
    assert (await live.client().connect())["msg"] == "hello"


async def test_observers_behind_a_stream_delay_get_events_and_attendance_that_much_later(live: Stage) -> None:
    """The video runs late; what observers read must not run ahead of it (staff are not delayed),
    but an observer's own question is answered at once, not behind the held events."""
    staff = live.client(live.staff_cookie)
    await staff.connect()
    await ack(staff, "set_stream", kind="hls", url="/static/live/stream.m3u8", delay_seconds=2)
    try:
        observer, other = live.client(), live.client()
        await observer.connect()
        await other.connect()
        loop = asyncio.get_running_loop()
        sent = loop.time()
        desk = live.take(1)[0]
        present = (await ack(staff, "check_in_at_desk", employee_id=desk.employee_id))["attendance"]["present"]
        event = await marker(live, staff)
        assert loop.time() - sent < 1.5  # staff had both at once
        await ping(observer, "while-held")
        assert loop.time() - sent < 1.5 and observer.seq < event["seq"]  # answered; the event still held
        for viewer in (observer, other):
            await viewer.wait_for(lambda v=viewer: v.seq >= event["seq"], timeout=10)
        assert loop.time() - sent >= 2.0
        assert seqs(observer) == seqs(other)
        await observer.wait_for(lambda: any(m.get("msg") == "attendance" and m["present"] == present
                                            for m in observer.ephemeral), timeout=10)
        assert loop.time() - sent >= 2.0
    finally:
        await ack(staff, "set_stream", kind="hls", url="/static/live/stream.m3u8", delay_seconds=0)
