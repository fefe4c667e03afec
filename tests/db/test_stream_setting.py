"""The stream address staff set (set_stream), through a real server on both databases: behind HTTPS
an http:// picture would be blocked by every browser (mixed content), so it is refused; on a
plain-HTTP site it is accepted with a warning; the refusal says the rule that applies."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from congress.actions.accounts import add_staff
from congress.actions.base import Context
from congress.actions.setup import create_congress
from congress.db.engine import Database
from congress.settings import Settings
from tests.story import SETUP, LiveServer, sign_in


@pytest.fixture
def staff_on(database_url: str, db: Database) -> Iterator[object]:
    with db.write() as session:
        ctx = Context(session, SETUP, datetime.now(UTC))
        congress_id = create_congress(ctx, "第十届职代会第三次会议", ["主会场"]).id
        _account, password = add_staff(ctx, "staff")
    servers: list[LiveServer] = []

    def start(*, is_https: bool) -> tuple[httpx.Client, int]:
        server = LiveServer(Settings(database_url=database_url, port=0, is_https=is_https)).start()
        servers.append(server)
        # Behind HTTPS the session cookie is Secure; this test talks plain HTTP to the server itself.
        cookie, csrf = sign_in(server.url, {"login": "staff", "password": password})
        client = httpx.Client(base_url=server.url, timeout=30,
                              headers={"X-CSRF-Token": csrf, "Cookie": f"congress_session={cookie}"})
        return client, congress_id

    yield start
    for server in servers:
        server.stop()


def set_stream(client: httpx.Client, congress_id: int, url: str) -> httpx.Response:
    return client.post(f"/api/congresses/{congress_id}/commands/set_stream", json={"kind": "hls", "url": url})


def test_an_http_stream_behind_https_is_refused_and_the_message_names_the_rule(staff_on):
    client, congress_id = staff_on(is_https=True)

    refused = set_stream(client, congress_id, "http://10.0.0.5/live/stream.m3u8")
    assert refused.status_code == 400
    assert "https://" in refused.json()["error"]["message"] and "HTTPS" in refused.json()["error"]["message"]
    assert set_stream(client, congress_id, "https://live.example.cn/stream.m3u8").status_code == 200
    assert set_stream(client, congress_id, "/live/stream.m3u8").status_code == 200


def test_an_http_stream_on_a_plain_http_site_is_accepted_with_a_warning(staff_on):
    client, congress_id = staff_on(is_https=False)

    accepted = set_stream(client, congress_id, "http://10.0.0.5/live/stream.m3u8")
    assert accepted.status_code == 200, accepted.text
    assert "HTTPS" in accepted.json()["result"]["warning"]
    assert "warning" not in set_stream(client, congress_id, "https://live.example.cn/stream.m3u8").json()["result"]
    refused = set_stream(client, congress_id, "rtmp://10.0.0.5/live")
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == "直播地址应以 https:// 或 http:// 开头（或为本站的 /… 地址）"
