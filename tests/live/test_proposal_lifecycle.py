"""A proposal's whole life through a real server: filed and co-signed over the websocket, decided
and assigned by staff over HTTP, answered by the department, rated by the proposer; the public board
and an observer follow it live."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from congress.settings import Settings
from tests.story import LiveClient, LiveServer, build_story, sign_in

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def http_command(server: LiveServer, cookie: str, csrf: str, congress_id: int, op: str, **body):  # type: ignore[no-untyped-def]
    response = httpx.post(f"{server.url}/api/congresses/{congress_id}/commands/{op}", json=body, timeout=30,
                          cookies={"congress_session": cookie}, headers={"x-csrf-token": csrf})
    return response.status_code, response.json()


async def test_proposal_from_filing_to_a_rated_reply(db, database_url):
    story = build_story(db)
    server = LiveServer(Settings(database_url=database_url, port=0)).start()
    clients: list[LiveClient] = []
    try:
        cid = story.congress_id
        group = story.voting()[0].group_id
        proposer, first, second = story.voting(group)[:3]

        async def delegate_client(d):  # type: ignore[no-untyped-def]
            cookie, csrf = sign_in(server.url, {"employee_id": d.employee_id, "code": story.codes[d.employee_id],
                                                "congress_id": cid})
            client = LiveClient(server.ws_url, cid, cookie)
            await client.connect()
            clients.append(client)
            return client, cookie, csrf

        author, _, _ = await delegate_client(proposer)
        cosigner, _, _ = await delegate_client(first)
        _, second_cookie, second_csrf = await delegate_client(second)
        observer = LiveClient(server.ws_url, cid)
        await observer.connect()
        clients.append(observer)

        draft = await author.command("draft_proposal", title="关于夜班食堂供应热饭的建议",
                                     reason="夜班职工凌晨下班时食堂已关门。", suggestion="建议开设夜宵窗口。")
        pid = draft["result"]["id"]
        await author.command("invite_cosigners", proposal_id=pid, employee_ids=[first.employee_id, second.employee_id])
        await cosigner.wait_for(lambda: "cosign.invited" in cosigner.event_types())
        assert (await cosigner.command("answer_cosign", proposal_id=pid, accept=True))["msg"] == "ack"
        status, body = http_command(server, second_cookie, second_csrf, cid, "answer_cosign", proposal_id=pid, accept=True)
        assert status == 200, body
        assert "proposal.drafted" not in observer.event_types()  # drafts are private
        submitted = await author.command("submit_proposal", proposal_id=pid)
        assert submitted["result"]["status"] == "submitted", submitted
        await observer.wait_for(lambda: "proposal.submitted" in observer.event_types())
        # What observers are sent names the proposal for the board; its text is read on demand.
        told = next(e["payload"] for e in observer.events if e["type"] == "proposal.submitted")
        assert (told["number"], told["title"], told["proposer"], told["status_label"]) == \
            (1, "关于夜班食堂供应热饭的建议", proposer.name, "待审查")
        assert "reason" not in told and "suggestion" not in told and "suggested_category" not in told

        staff_cookie, staff_csrf = sign_in(server.url, {"login": "staff", "password": story.staff_password})
        status, queue = http_command(server, staff_cookie, staff_csrf, cid, "triage")
        assert status == 200 and queue["result"]["proposals"][0]["suggested_category"] == "生活福利"
        status, refused = http_command(server, staff_cookie, "wrong-token", cid, "decide_proposal", proposal_id=pid,
                                       decision="立案")
        assert status == 403 and refused["error"]["code"] == "csrf"
        status, _ = http_command(server, staff_cookie, staff_csrf, cid, "decide_proposal", proposal_id=pid,
                                 decision="立案", category="生活福利", is_key=True)
        assert status == 200
        status, _ = http_command(server, staff_cookie, staff_csrf, cid, "assign_proposal", proposal_id=pid,
                                 lead="人力资源部", due_at="2030-01-31T18:00:00+08:00")
        assert status == 200
        await author.wait_for(lambda: "proposal.decision_told" in author.event_types())

        dept_cookie, dept_csrf = sign_in(server.url, {"login": story.department[0], "password": story.department[1]})
        status, cases = http_command(server, dept_cookie, dept_csrf, cid, "department_cases")
        assert [c["id"] for c in cases["result"]["cases"]] == [pid]
        status, _ = http_command(server, dept_cookie, dept_csrf, cid, "reply_proposal", proposal_id=pid,
                                 reply_class="A", text="已在食堂开设夜班热饭窗口，供应到凌晨两点。")
        assert status == 200
        await author.wait_for(lambda: "proposal.reply_told" in author.event_types())
        rated = await author.command("rate_reply", proposal_id=pid, rating="满意")
        assert rated["result"]["status"] == "closed"

        await observer.wait_for(lambda: "proposal.rated" in observer.event_types())
        decided = next(e["payload"] for e in observer.events if e["type"] == "proposal.decided")
        assert decided["decision"] == "立案" and decided["category"] == "生活福利" and "suggestion" not in decided
        board = await observer.command("proposal_board", query="热饭")
        entry = board["result"]["proposals"][0]
        assert entry["status_label"] == "已办结" and entry["lead_department"] == "人力资源部"
        assert entry["reply"]["reply_class"] == "A" and entry["rating"] == "满意" and entry["is_key"] is True
        assert set(entry["cosigners"]) == {first.name, second.name}
        # Observers can read but change nothing
        refused_ws = await observer.command("rate_reply", proposal_id=pid, rating="不满意", comment="x")
        assert refused_ws["code"] == "read_only"
        stats = await observer.command("proposal_stats")
        assert stats["result"]["answered_rate"] == 1 and stats["result"]["satisfaction_rate"] == 1
    finally:
        for client in clients:
            await client.close()
        server.stop()


async def test_attachments_are_checked_by_content_and_readable_only_by_those_involved(db, database_url):
    story = build_story(db)
    server = LiveServer(Settings(database_url=database_url, port=0)).start()
    try:
        cid = story.congress_id
        proposer, outsider = story.voting()[0], story.voting()[-1]
        cookie, csrf = sign_in(server.url, {"employee_id": proposer.employee_id,
                                            "code": story.codes[proposer.employee_id], "congress_id": cid})
        _, draft = http_command(server, cookie, csrf, cid, "draft_proposal", title="关于更换破损地坪的建议",
                                reason="成品库地坪破损，叉车颠簸。", suggestion="建议分区修补地坪。")
        pid = draft["result"]["id"]
        url = f"{server.url}/api/congresses/{cid}/proposals/{pid}/attachments"
        pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
        disguised = httpx.post(url, files={"file": ("photo.pdf", b"MZ\x90\x00 not a pdf")}, timeout=30,
                               cookies={"congress_session": cookie}, headers={"x-csrf-token": csrf})
        assert disguised.status_code == 400 and disguised.json()["error"]["code"] == "bad_file"
        uploaded = httpx.post(url, files={"file": ("地坪照片.pdf", pdf)}, timeout=30,
                              cookies={"congress_session": cookie}, headers={"x-csrf-token": csrf})
        assert uploaded.status_code == 201, uploaded.text
        download = f"{url}/{uploaded.json()['result']['id']}"
        # Listed with the proposal for its proposer: name, type, size and checksum.
        _, detail = http_command(server, cookie, csrf, cid, "proposal_detail", proposal_id=pid)
        assert detail["result"]["attachments"] == [{
            "id": uploaded.json()["result"]["id"], "filename": "地坪照片.pdf", "content_type": "application/pdf",
            "size": len(pdf), "sha256": hashlib.sha256(pdf).hexdigest()}]

        # Nobody else reads it, and nobody else learns it is there: the answer of an id never used
        staff_cookie, _ = sign_in(server.url, {"login": "staff", "password": story.staff_password})
        outsider_cookie, _ = sign_in(server.url, {"employee_id": outsider.employee_id,
                                                  "code": story.codes[outsider.employee_id], "congress_id": cid})
        for who in (staff_cookie, outsider_cookie, None):  # staff too while it is a draft; observers never
            refused = httpx.get(download, cookies={"congress_session": who} if who else None, timeout=30)
            assert (refused.status_code, refused.json()["error"]["message"]) == (404, "找不到这个附件")
        # Once submitted, staff read it (co-signers invited and accepting first)
        cosigners = story.voting()[1:3]
        http_command(server, cookie, csrf, cid, "invite_cosigners", proposal_id=pid,
                     employee_ids=[c.employee_id for c in cosigners])
        for c in cosigners:
            c_cookie, c_csrf = sign_in(server.url, {"employee_id": c.employee_id, "code": story.codes[c.employee_id],
                                                    "congress_id": cid})
            assert http_command(server, c_cookie, c_csrf, cid, "answer_cosign", proposal_id=pid, accept=True)[0] == 200
            as_cosigner = httpx.get(download, cookies={"congress_session": c_cookie}, timeout=30)
            assert as_cosigner.status_code == 200 and as_cosigner.content == pdf  # they read what they sign
        assert http_command(server, cookie, csrf, cid, "submit_proposal", proposal_id=pid)[0] == 200
        as_staff = httpx.get(download, cookies={"congress_session": staff_cookie}, timeout=30)
        assert as_staff.status_code == 200 and as_staff.content == pdf
        assert as_staff.headers["content-type"] == "application/pdf"
        assert httpx.get(download, cookies={"congress_session": outsider_cookie}, timeout=30).status_code == 404
        assert httpx.get(download, timeout=30).status_code == 404  # observers do not see attachments
    finally:
        server.stop()
