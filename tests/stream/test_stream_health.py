"""Staff see the stream's health and observers hear when it stalls (congress.streaming.health), with a
real ffmpeg test picture writing live HLS, `congress serve` in its own process reading it from its
/live/ folder (and over HTTP from an absolute URL), and real websockets on SQLite and PostgreSQL.

While the picture runs staff get `stream_health` live with the newest segment a few seconds old, the
edge latency and the observer count; stopping the encoder makes it `stalled` for staff and
`stream_status stalled` for observers within 15 s; starting it again clears both. A URL the server
cannot read is `unchecked` (said so, not an error), one that answers 404 or with something else than a
playlist is not live with the reason (and nothing of what that server answered).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.story import LiveClient, sign_in

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def health(client: LiveClient) -> list[dict[str, Any]]:
    return [m for m in client.ephemeral if m.get("msg") == "stream_health"]


def statuses(client: LiveClient) -> list[dict[str, Any]]:
    return [m for m in client.ephemeral if m.get("msg") == "stream_status"]


async def wait_health(client: LiveClient, predicate: Any, timeout: float) -> dict[str, Any]:
    start = len(health(client))
    await client.wait_for(lambda: any(predicate(m) for m in health(client)[start:]), timeout)
    return next(m for m in health(client)[start:] if predicate(m))


async def test_staff_see_live_then_the_stall_and_observers_hear_it_until_the_picture_is_back(stream_site) -> None:
    site, picture = stream_site, stream_site.picture
    figures: list[str] = []  # what the run saw, printed with -s (the report quotes them)
    cookie, _csrf = sign_in(site.url, {"login": site.story.staff_login, "password": site.story.staff_password})
    staff = LiveClient(site.server.ws_url, site.story.congress_id, cookie)
    observer = LiveClient(site.server.ws_url, site.story.congress_id)
    await staff.connect()
    try:
        reply = await staff.command("set_stream", kind="hls", url=site.stream_url, delay_seconds=2)
        assert reply["msg"] == "ack", reply
        await observer.connect()
        live = await wait_health(staff, lambda m: m["state"] == "live" and m["edge_latency"] is not None
                                 and m["observers"] == 1, timeout=20)
        assert live["live"] is True and live["stalled"] is False and live["reachable"] is True
        assert 0 <= live["segment_age"] < 6, live  # a 2-s segment appears every 2 s
        assert 0 < live["edge_latency"] < 8, live  # ffmpeg writes a segment as soon as it is complete
        assert live["suggested_hold"] >= 1 and live["target_duration"] == 2 and live["hold_seconds"] == 2
        figures.append(f"live: segment_age {live['segment_age']} s, edge_latency {live['edge_latency']} s, "
                       f"suggested_hold {live['suggested_hold']} s")
        assert statuses(observer) == []  # observers hear only of a change
        assert not [m for m in health(observer)], "stream_health is for staff only"

        stopped_at = time.monotonic()
        picture.stop()
        stalled = await wait_health(staff, lambda m: m["stalled"], timeout=15)
        staff_after = time.monotonic() - stopped_at
        assert stalled["state"] == "stalled" and stalled["live"] is False and stalled["segment_age"] >= 6, stalled
        await observer.wait_for(lambda: any(m["stalled"] for m in statuses(observer)), timeout=15 - staff_after)
        observer_after = time.monotonic() - stopped_at
        told = statuses(observer)[-1]
        assert told["stalled"] is True and told["at"].endswith("+00:00")
        figures.append(f"stalled: staff after {staff_after:.1f} s (segment_age {stalled['segment_age']} s), "
                       f"observer after {observer_after:.1f} s")

        started_at = time.monotonic()
        picture.start()
        back = await wait_health(staff, lambda m: m["state"] == "live", timeout=30)
        assert back["stalled"] is False and back["segment_age"] < 6
        await observer.wait_for(lambda: statuses(observer)[-1]["stalled"] is False, timeout=10)
        figures.append(f"live again after {time.monotonic() - started_at:.1f} s")

        # The same stream by an absolute URL is read over HTTP
        reply = await staff.command("set_stream", kind="hls", url=f"{site.url}{site.stream_url}", delay_seconds=2)
        assert reply["msg"] == "ack", reply
        await wait_health(staff, lambda m: m["state"] == "live", timeout=15)
        # A relative URL outside /live/ with no check origin: cannot be checked from the server
        await staff.command("set_stream", kind="hls", url="/hls/hall.m3u8", delay_seconds=2)
        unchecked = await wait_health(staff, lambda m: m["state"] == "unchecked", timeout=10)
        assert unchecked["reason"] == "cannot_check" and unchecked["live"] is None
        # An address that answers 404: not live, and why
        await staff.command("set_stream", kind="hls", url=f"{site.url}/live/nothing.m3u8", delay_seconds=2)
        missing = await wait_health(staff, lambda m: m["error"] is not None, timeout=10)
        assert (missing["state"], missing["live"], missing["reachable"]) == ("not_live", False, False)
        assert missing["error"] == "the playlist answered HTTP 404"
        # Something else than a playlist: said so, without repeating what that server answered
        await staff.command("set_stream", kind="hls", url=f"{site.url}/api/congresses", delay_seconds=2)
        other = await wait_health(staff, lambda m: m["error"] and "EXTM3U" in m["error"], timeout=10)
        assert other["error"] == "not an HLS playlist: it must start with #EXTM3U" and other["state"] == "not_live"
    finally:
        await observer.close()
        await staff.close()
    print("\n".join(figures))
