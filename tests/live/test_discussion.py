"""Reports read online and discussed in groups, through a real server: group rooms that other groups
and observers never see, hiding with a record, the group's review opinion reaching the presidium,
requests to speak with a public speaker, and documents that are frozen once tabled."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from congress.db.engine import Database
from congress.db.models import Message
from congress.settings import Settings
from tests.story import LiveClient, LiveServer, Story, build_story, sign_in

pytestmark = pytest.mark.anyio

ROSTER = """employee_id,name,gender,group,unit,role,is_group_leader,delegate_type
A1,甲一,男,长沙,一车间,一线职工,1,正式代表
A2,甲二,女,长沙,一车间,一线职工,0,正式代表
B1,乙一,男,岳阳,三车间,一线职工,1,正式代表
B2,乙二,女,岳阳,三车间,一线职工,0,正式代表
""".encode()
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SCRIPT = "<script>alert('x')</script>"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Hall:
    story: Story
    server: LiveServer

    def sign_in(self, employee_id: str) -> tuple[str, str]:
        return sign_in(self.server.url, {"employee_id": employee_id, "code": self.story.codes[employee_id],
                                         "congress_id": self.story.congress_id})

    def staff(self) -> tuple[str, str]:
        return sign_in(self.server.url, {"login": "staff", "password": self.story.staff_password})

    def http(self, session: tuple[str, str] | None = None) -> httpx.Client:
        cookies, headers = {}, {}
        if session is not None:
            cookies, headers = {"congress_session": session[0]}, {"X-CSRF-Token": session[1]}
        return httpx.Client(base_url=f"{self.server.url}/api/congresses/{self.story.congress_id}",
                            cookies=cookies, headers=headers, timeout=30)

    async def client(self, session: tuple[str, str] | None = None) -> LiveClient:
        client = LiveClient(self.server.ws_url, self.story.congress_id, session[0] if session else None)
        await client.connect()
        return client


@pytest.fixture
def hall(db: Database, database_url: str) -> Iterator[Hall]:
    story = build_story(db, roster=ROSTER, groups=["长沙", "岳阳"])
    server = LiveServer(Settings(database_url=database_url, port=0))
    server.start()
    try:
        yield Hall(story, server)
    finally:
        server.stop()


def events_of(client: LiveClient, type: str) -> list[dict[str, Any]]:
    return [e["payload"] for e in client.events if e["type"] == type]


def snapshot_room_ids(hello: dict[str, Any]) -> dict[int, list[int]]:
    return {room["group_id"]: [m["id"] for m in room["messages"]] for room in hello["snapshot"]["room"]}


async def test_rooms_opinions_and_speakers_reach_exactly_who_may_see_them(hall: Hall, db: Database) -> None:
    story = hall.story
    by_id = {d.employee_id: d for d in story.delegates}
    group_a, group_b, item_id = by_id["A1"].group_id, by_id["B1"].group_id, story.agenda[0]["id"]
    staff_session = hall.staff()
    staff = await hall.client(staff_session)
    sessions = {e: hall.sign_in(e) for e in ("A1", "A2", "B1", "B2")}
    leader_a, member_a, member_b = [await hall.client(sessions[e]) for e in ("A1", "A2", "B2")]
    leader_b = sessions["B1"]
    observer = await hall.client()

    # A member of 长沙 speaks in 长沙's room; the raw text travels as text
    posted = await member_a.command("post_message", text=f"{SCRIPT} 报告第三部分要具体", agenda_item_id=item_id)
    assert posted["msg"] == "ack", posted
    message_id = posted["result"]["id"]
    await leader_a.wait_for(lambda: events_of(leader_a, "room.message_posted"))
    assert events_of(leader_a, "room.message_posted")[0]["text"] == f"{SCRIPT} 报告第三部分要具体"
    await staff.wait_for(lambda: events_of(staff, "room.message_posted"))

    # 岳阳 cannot read or write 长沙's room; observers cannot read or write any room
    refused = await member_b.command("post_message", text="串门", group_id=group_a)
    assert (refused["msg"], refused["code"]) == ("error", "other_group")
    own = await member_b.command("post_message", text="岳阳组的意见")
    assert own["msg"] == "ack"
    await member_b.wait_for(lambda: events_of(member_b, "room.message_posted"))
    refused = await observer.command("post_message", text="观众也想说", group_id=group_a)
    assert (refused["msg"], refused["code"]) == ("error", "read_only")
    refused = await member_a.command("post_message", text="长" * 1001)
    assert refused["code"] == "message_too_long" and "1000" in refused["message"]

    # The leader hides a message: members get a stub, staff the reason, the record keeps everything
    refused = await member_a.command("hide_message", message_id=message_id, reason="跑题")
    assert refused["code"] == "not_group_leader"
    hidden = await leader_a.command("hide_message", message_id=message_id, reason="与议题无关")
    assert hidden["msg"] == "ack", hidden
    await member_a.wait_for(lambda: events_of(member_a, "room.message_hidden"))
    stub = events_of(member_a, "room.message_hidden")[0]["message"]
    assert stub["is_hidden"] and "text" not in stub and "hidden_reason" not in stub
    await staff.wait_for(lambda: events_of(staff, "room.hide_recorded"))
    assert events_of(staff, "room.hide_recorded")[0]["hidden_reason"] == "与议题无关"
    with db.read() as session:
        row = session.get(Message, message_id)
        assert row is not None
        assert (row.text, row.hidden_reason, row.hidden_by) == (f"{SCRIPT} 报告第三部分要具体", "与议题无关", "甲一")

    # The group's review opinion: only the leader drafts and submits; staff get it
    quoted = await leader_a.command("post_message", text="建议安全投入单列")
    refused = await member_a.command("save_opinion", agenda_item_id=item_id, agreement="同意")
    assert refused["code"] == "not_group_leader"
    refused = await leader_a.command("save_opinion", agenda_item_id=item_id, quoted_message_ids=[own["result"]["id"]])
    assert refused["code"] == "not_found"  # another group's message cannot be quoted
    saved = await leader_a.command("save_opinion", agenda_item_id=item_id, agreement="同意报告",
                                   suggestions="安全投入单列", quoted_message_ids=[quoted["result"]["id"]])
    assert saved["msg"] == "ack", saved
    refused = await member_a.command("submit_opinion", agenda_item_id=item_id)
    assert refused["code"] == "not_group_leader"
    submitted = await leader_a.command("submit_opinion", agenda_item_id=item_id)
    assert submitted["msg"] == "ack" and submitted["result"]["status"] == "submitted"
    await staff.wait_for(lambda: events_of(staff, "opinion.submitted"))
    assert events_of(staff, "opinion.submitted")[0]["quotes"][0]["text"] == "建议安全投入单列"
    refused = await leader_a.command("save_opinion", agenda_item_id=item_id, agreement="再改改")
    assert refused["code"] == "opinion_submitted"

    with hall.http(staff_session) as http:
        table = http.post("/commands/opinions_for_item", json={"agenda_item_id": item_id}).json()["result"]
        assert [(g["group"], g["opinion"] and g["opinion"]["agreement"]) for g in table["groups"]] == [
            ("长沙", "同意报告"), ("岳阳", None)]
        handled = http.post("/commands/mark_opinion_handled",
                            json={"opinion_id": submitted["result"]["id"], "handling": "已采纳"})
        assert handled.status_code == 200, handled.text
        page = http.get(f"/opinions/{item_id}/print")
        assert page.status_code == 200 and "default-src 'none'" in page.headers["content-security-policy"]
        assert "安全投入单列" in page.text and "已采纳" in page.text
        sheet = load_workbook(io.BytesIO(http.get(f"/opinions/{item_id}/export.xlsx").content)).active
        assert [c.value for c in sheet[2]][:4] == ["长沙", "审议公司工作报告", "同意报告", "安全投入单列"]
    with hall.http(leader_b) as http:
        assert http.get(f"/opinions/{item_id}/print").status_code == 403
        refused_http = http.post("/commands/opinions_for_item", json={"agenda_item_id": item_id})
        assert refused_http.status_code == 403
    with hall.http() as http:
        assert http.get(f"/opinions/{item_id}/print").json()["error"]["code"] == "read_only"

    # Requests to speak: the requester and staff see the request, everyone sees the speaker
    assert (await staff.command("set_current_item", item_id=item_id))["msg"] == "ack"
    requested = await member_a.command("request_to_speak", topic="安全生产")
    assert requested["msg"] == "ack", requested
    again = await member_a.command("request_to_speak")
    assert again["code"] == "already_requested"
    floor = await staff.command("give_floor", request_id=requested["result"]["id"], seconds_allowed=300)
    assert floor["msg"] == "ack", floor
    await observer.wait_for(lambda: events_of(observer, "speaker.floor_given"))
    speaker = events_of(observer, "speaker.floor_given")[0]
    assert (speaker["name"], speaker["group"], speaker["agenda_item_id"], speaker["seconds_allowed"]) == (
        "甲二", "长沙", item_id, 300)
    late_observer = await hall.client()
    assert late_observer.hello["snapshot"]["speakers"]["current"]["name"] == "甲二"
    assert (await staff.command("end_speech"))["msg"] == "ack"
    for client in (observer, member_b):  # the last event: everything before it has arrived, in seq order
        await client.wait_for(lambda c=client: events_of(c, "speaker.ended"))

    # Nothing of any room, opinion or waiting list ever reached the observer or the other group
    assert not [e for e in observer.event_types() if e.startswith(("room.", "opinion.", "speech."))]
    assert [(e["type"], e["payload"]["group_id"]) for e in member_b.events
            if e["type"].startswith(("room.", "opinion.", "speech."))] == [("room.message_posted", group_b)]
    assert "speech.requested" in member_a.event_types()

    # Fresh snapshots agree with the events each viewer got
    fresh_a, fresh_b = await hall.client(sessions["A2"]), await hall.client(sessions["B2"])
    rooms_a = fresh_a.hello["snapshot"]["room"]
    assert [r["group_id"] for r in rooms_a] == [group_a]
    first = rooms_a[0]["messages"][0]
    assert first["id"] == message_id and first["is_hidden"] and "text" not in first
    assert message_id not in sum(snapshot_room_ids(fresh_b.hello).values(), [])
    assert list(snapshot_room_ids(fresh_b.hello)) == [group_b]
    assert late_observer.hello["snapshot"]["room"] == [] and late_observer.hello["snapshot"]["opinions"] == []
    for client in (staff, leader_a, member_a, member_b, observer, late_observer, fresh_a, fresh_b):
        await client.close()


async def test_documents_are_read_by_who_may_and_frozen_once_tabled(hall: Hall) -> None:
    story = hall.story
    item_id = story.agenda[0]["id"]
    staff_session = hall.staff()
    delegate_session = hall.sign_in("B2")
    delegate, observer = await hall.client(delegate_session), await hall.client()
    markdown = (f"# 财务报告\n\n{SCRIPT}\n\n[点我](javascript:alert(1)) [附件](./附件.md) "
                "[官网](https://example.com)\n").encode()

    with hall.http(staff_session) as http:
        internal = http.post("/documents", data={"title": "财务报告", "agenda_item_id": str(item_id)},
                             files={"file": ("财务报告.md", markdown, "text/markdown")})
        assert internal.status_code == 200, internal.text
        internal_id = internal.json()["result"]["id"]
        public = http.post("/documents", data={"title": "公司工作报告", "agenda_item_id": str(item_id),
                                               "is_public": "true"},
                           files={"file": ("工作报告.pdf", PDF_BYTES, "application/pdf")})
        assert public.status_code == 200, public.text
        public_id = public.json()["result"]["id"]
        fake = http.post("/documents", data={"title": "假 PDF"}, files={"file": ("x.pdf", b"<html>", "application/pdf")})
        assert (fake.status_code, fake.json()["error"]["code"]) == (400, "bad_file")
    with hall.http() as http:
        anonymous = http.post("/documents", data={"title": "x"}, files={"file": ("x.md", b"# x", "text/markdown")})
        # without a session: an observer's write, 403 read_only as docs/api.md says (issue 18)
        assert (anonymous.status_code, anonymous.json()["error"]["code"]) == (403, "read_only")

    # Delegates hear of both documents; observers only of the public one
    await delegate.wait_for(lambda: len(events_of(delegate, "document.added")) == 2)
    await observer.wait_for(lambda: events_of(observer, "document.added"))
    assert [d["title"] for d in events_of(observer, "document.added")] == ["公司工作报告"]

    with hall.http() as http:  # an observer
        assert http.get(f"/documents/{internal_id}/versions/1").status_code == 404
        pdf = http.get(f"/documents/{public_id}/versions/1")
        assert pdf.status_code == 200 and pdf.content == PDF_BYTES
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.headers["content-disposition"].startswith("inline;")
        assert pdf.headers["x-content-type-options"] == "nosniff"
    with hall.http(delegate_session) as http:
        page = http.get(f"/documents/{internal_id}/versions/1")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none': no script
        assert "<script>" not in page.text and "&lt;script&gt;" in page.text
        assert "javascript:" not in page.text.replace("[点我](javascript:alert(1))", "")
        assert 'href="./%E9%99%84%E4%BB%B6.md"' in page.text and 'href="https://example.com"' in page.text
        rendered = http.get(f"/documents/{internal_id}/versions/1", params={"format": "json"}).json()
        assert rendered["text"] == markdown.decode() and "<script>" not in rendered["html"]
        raw = http.get(f"/documents/{internal_id}/versions/1", params={"format": "raw"})
        assert raw.headers["content-type"].startswith("text/plain") and SCRIPT in raw.text

    # Tabled: no change in place; a new version is added and the first stays readable
    with hall.http(staff_session) as http:
        tabled = http.post("/commands/table_document", json={"document_id": internal_id})
        assert tabled.status_code == 200, tabled.text
        in_place = http.put(f"/documents/{internal_id}/versions/1",
                            files={"file": ("财务报告.md", b"# changed", "text/markdown")})
        assert (in_place.status_code, in_place.json()["error"]["code"]) == (409, "document_tabled")
        second = http.post(f"/documents/{internal_id}/versions",
                           files={"file": ("财务报告-修改稿.md", "# 财务报告（修改稿）\n".encode(), "text/markdown")})
        assert second.status_code == 200 and second.json()["result"]["version"]["version"] == 2
    with hall.http(delegate_session) as http:
        assert http.get(f"/documents/{internal_id}/versions/1", params={"format": "raw"}).text == markdown.decode()
        assert "修改稿" in http.get(f"/documents/{internal_id}/versions/2", params={"format": "raw"}).text
    await delegate.wait_for(lambda: events_of(delegate, "document.version_added"))
    assert events_of(delegate, "document.tabled")[0]["document_id"] == internal_id
    fresh = await hall.client(delegate_session)
    (document,) = [d for d in fresh.hello["snapshot"]["documents"] if d["id"] == internal_id]
    assert document["is_tabled"] and [v["version"] for v in document["versions"]] == [1, 2]
    late_observer = await hall.client()
    assert [d["id"] for d in late_observer.hello["snapshot"]["documents"]] == [public_id]
    assert "document.tabled" not in observer.event_types()
    for client in (delegate, observer, fresh, late_observer):
        await client.close()
