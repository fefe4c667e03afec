"""Who may watch without signing in (issue 18, points 2 and 3 and the anonymous write of point 8),
through a real uvicorn server and real websocket and HTTP clients, on SQLite and PostgreSQL.

- The watch token is a link secret made by the server, shown once, stored as an HMAC.
- Wrong tokens are throttled per address: after the limit even the right token is not checked
  from that address (4429), while another address still joins.
- One rule for observers: in token mode every anonymous HTTP read (the read commands, the state,
  a document, the replay chapters) needs the token; in off mode none is answered; signed-in
  people are not asked.
- An anonymous write is 403 read_only; an ended session writing is 401 not_signed_in.
- A token hashed with argon2 by an older version is not checked: staff issue a new link.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import sqlalchemy as sa
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from congress.actions.accounts import add_staff, issue_codes
from congress.actions.agenda import add_agenda_item
from congress.actions.attendance import check_in_at_desk
from congress.actions.ballots import cast_ballot
from congress.actions.base import Context
from congress.actions.documents import upload_document
from congress.actions.proposals import answer_cosign, draft_proposal, invite_cosigners, submit_proposal
from congress.actions.roster import import_roster
from congress.actions.setup import create_congress
from congress.actions.votes import certify_vote, close_vote, create_vote, open_vote, publish_vote
from congress.application.auth import delegate_actor
from congress.application.service import system_clock
from congress.db.engine import Database
from congress.db.models import Congress, Delegate, Event
from congress.db.secrets import hash_secret
from congress.settings import Settings
from tests.story import SETUP, LiveServer, sign_in

pytestmark = pytest.mark.anyio

COOKIE = "congress_session"
ROSTER = """employee_id,name,gender,group,unit,role,is_group_leader,delegate_type
A001,甲组长,男,甲组,一车间,一线职工,1,正式代表
A002,甲代表,女,甲组,一车间,一线职工,0,正式代表
B001,乙组长,女,乙组,二车间,一线职工,1,正式代表
B002,乙代表,男,乙组,二车间,一线职工,0,正式代表
"""
URL_SAFE = re.compile(r"^[A-Za-z0-9_-]+$")
# A token of staff's own, long enough for the new rule (and accepted by the old one, so a test about
# the throttle or the HTTP reads fails on the old code for what it tests, not at set_watch)
CHOSEN = "congress-2027-watch-link-A7"
REFUSED = {401, 403, 429}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Hall:
    """A congress with something behind every read an observer can reach, and a server."""

    db: Database
    server: LiveServer
    congress_id: int
    vote_id: int
    receipt: str
    proposal_id: int
    document_url: str
    staff: tuple[str, str]  # cookie, csrf
    delegate: tuple[str, str]

    @property
    def base(self) -> str:
        return f"{self.server.url}/api/congresses/{self.congress_id}"

    def staff_command(self, op: str, body: dict[str, Any], key: str | None = None) -> httpx.Response:
        cookie, csrf = self.staff
        headers = {"cookie": f"{COOKIE}={cookie}", "x-csrf-token": csrf}
        if key:
            headers["idempotency-key"] = key
        return httpx.post(f"{self.base}/commands/{op}", json=body, headers=headers, timeout=30)

    def set_watch(self, **body: Any) -> dict[str, Any]:
        response = self.staff_command("set_watch", body)
        assert response.status_code == 200, response.text
        return response.json()["result"]

    def token_mode(self) -> str:
        assert self.set_watch(mode="token", token=CHOSEN)["mode"] == "token"
        return CHOSEN

    def reads(self) -> dict[str, tuple[str, str, dict[str, Any] | None]]:
        """Every HTTP read an anonymous visitor can reach: name -> (method, url, body)."""
        return {
            "proposal_board": ("POST", f"{self.base}/commands/proposal_board", {}),
            "proposal_detail": ("POST", f"{self.base}/commands/proposal_detail", {"proposal_id": self.proposal_id}),
            "proposal_stats": ("POST", f"{self.base}/commands/proposal_stats", {}),
            "check_receipt": ("POST", f"{self.base}/commands/check_receipt",
                              {"vote_id": self.vote_id, "receipt": self.receipt}),
            "receipts": ("POST", f"{self.base}/commands/receipts", {"vote_id": self.vote_id}),
            "state": ("GET", f"{self.base}/state", None),
            "document": ("GET", f"{self.server.url}{self.document_url}", None),
            "chapters": ("GET", f"{self.base}/chapters.vtt", None),
            "timeline": ("GET", f"{self.base}/timeline.json", None),
        }

    def read(self, name: str, *, token: str | None = None, header: bool = False,
             cookie: str | None = None, source: str = "127.0.0.1") -> httpx.Response:
        method, url, body = self.reads()[name]
        headers = {"cookie": f"{COOKIE}={cookie}"} if cookie else {}
        params = {}
        if token is not None and header:
            headers["x-watch-token"] = token
        elif token is not None:
            params["watch"] = token
        with httpx.Client(transport=httpx.HTTPTransport(local_address=source), timeout=30) as client:
            return client.request(method, url, params=params, headers=headers, json=body)

    async def observe(self, token: str | None = None, source: str = "127.0.0.1") -> tuple[str, Any]:
        """An observer's connection: ("hello", the hello) or ("refused", (close code, reason))."""
        url = f"{self.server.ws_url}?congress={self.congress_id}"
        if token is not None:
            url += f"&watch={quote(token)}"
        async with connect(url, open_timeout=30, local_addr=(source, 0)) as ws:
            first = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if first["msg"] == "hello":
                return "hello", first
            try:
                await asyncio.wait_for(ws.recv(), 30)
            except ConnectionClosed:
                pass
            return "refused", (ws.close_code, ws.close_reason)


def _build(db: Database) -> dict[str, Any]:
    now = system_clock()
    with db.write() as session:
        ctx = Context(session, SETUP, now)
        congress_id = create_congress(ctx, "第十届职代会第三次会议", ["甲组", "乙组"]).id
        import_roster(ctx, congress_id, ROSTER.encode(), "roster.csv")
        _account, password = add_staff(ctx, "staff")
        codes = {c["employee_id"]: c["code"] for c in issue_codes(ctx, congress_id)}
        item = add_agenda_item(ctx, congress_id, "审议通过", "表决《职工薪酬福利调整方案》")
        delegates = {d.employee_id: d for d in session.scalars(sa.select(Delegate).where(
            Delegate.congress_id == congress_id))}
        for employee_id in delegates:
            check_in_at_desk(ctx, congress_id, employee_id)
        vote = create_vote(ctx, congress_id, item["id"], "薪酬方案", [{"kind": "yes_no", "text": "是否同意"}])
        open_vote(ctx, congress_id, vote["id"])
        question = str(vote["questions"][0]["id"])
        receipts = [cast_ballot(Context(session, delegate_actor(d), now), congress_id, vote["id"], {question: "yes"})
                    for d in delegates.values()]
        close_vote(ctx, congress_id, vote["id"])
        certify_vote(ctx, congress_id, vote["id"], "刘志强")
        publish_vote(ctx, congress_id, vote["id"])
        document = upload_document(ctx, congress_id, "工作报告", item["id"], True, "报告.md",
                                   "# 工作报告\n\n公开的报告。".encode())
        as_proposer = Context(session, delegate_actor(delegates["A001"]), now)
        draft = draft_proposal(as_proposer, congress_id, "改善职工食堂", "食堂拥挤", "增加窗口")
        invite_cosigners(as_proposer, congress_id, draft["id"], ["A002", "B001"])
        for employee_id in ("A002", "B001"):
            answer_cosign(Context(session, delegate_actor(delegates[employee_id]), now), congress_id, draft["id"], True)
        submit_proposal(as_proposer, congress_id, draft["id"])
    return {"congress_id": congress_id, "password": password, "code": codes["A002"], "vote_id": vote["id"],
            "receipt": receipts[0]["receipt"], "proposal_id": draft["id"],
            "document_url": document["versions"][0]["url"]}


@pytest.fixture
def hall(db: Database, database_url: str) -> Iterator[Hall]:
    built = _build(db)
    server = LiveServer(Settings(database_url=database_url, port=0)).start()
    try:
        staff = sign_in(server.url, {"login": "staff", "password": built["password"]})
        delegate = sign_in(server.url, {"employee_id": "A002", "code": built["code"],
                                        "congress_id": built["congress_id"]})
        yield Hall(db, server, built["congress_id"], built["vote_id"], built["receipt"], built["proposal_id"],
                   built["document_url"], staff, delegate)
    finally:
        server.stop()


# -- the token is a link secret --------------------------------------------------------------------
async def test_the_server_makes_the_watch_link_shows_it_once_and_keeps_only_an_hmac(hall: Hall) -> None:
    issued = hall.staff_command("set_watch", {"mode": "token"}, key="watch-link-1")
    assert issued.status_code == 200, issued.text
    result = issued.json()["result"]
    token = result["token"]
    assert len(token) >= 16 and URL_SAFE.match(token)
    assert result["watch_path"] == f"/watch?congress={hall.congress_id}&watch={token}"

    # Shown once: a resend of the same command gets no token, nor does the setup view or any event
    again = hall.staff_command("set_watch", {"mode": "token"}, key="watch-link-1").json()["result"]
    assert again["token"] is None and again["token_withheld"] is True
    setup = hall.staff_command("congress_setup", {}).json()["result"]
    assert setup["has_watch_token"] is True and token not in json.dumps(setup)
    with hall.db.read() as session:
        stored = session.scalar(sa.select(Congress.watch_token_hash).where(Congress.id == hall.congress_id))
        payloads = [json.dumps(p, ensure_ascii=False) for p in session.scalars(
            sa.select(Event.payload).where(Event.congress_id == hall.congress_id))]
    assert stored.startswith("hmac-sha256:") and token not in stored
    assert not any(token in p for p in payloads)

    assert (await hall.observe(token))[0] == "hello"
    assert await hall.observe(token[:-1]) == ("refused", (4401, "watch token required"))

    # Saving token mode again keeps the link given out; renewing makes a new one and the old one stops
    kept = hall.set_watch(mode="token")
    assert kept == {"mode": "token", "token_kept": True}
    assert (await hall.observe(token))[0] == "hello"
    renewed = hall.set_watch(mode="token", renew=True)["token"]
    assert renewed != token
    assert await hall.observe(token) == ("refused", (4401, "watch token required"))
    assert (await hall.observe(renewed))[0] == "hello"


async def test_a_token_staff_choose_needs_16_characters(hall: Hall) -> None:
    short = hall.staff_command("set_watch", {"mode": "token", "token": "观看口令-2027-三次会"})  # 14 characters
    assert short.status_code == 400
    assert short.json()["error"]["code"] == "bad_field" and "16" in short.json()["error"]["message"]
    assert hall.staff_command("congress_setup", {}).json()["result"]["watch_mode"] == "open"  # nothing changed

    chinese = hall.staff_command("set_watch", {"mode": "token", "token": "第十届职代会第三次会议观看口令-2027"})
    assert chinese.status_code == 400 and "英文字母" in chinese.json()["error"]["message"]  # it goes in a link

    chosen = "zdh-2027-watch-16"  # 17 characters
    assert hall.set_watch(mode="token", token=chosen)["token"] == chosen
    assert (await hall.observe(chosen))[0] == "hello"


# -- failures are throttled per address -------------------------------------------------------------
async def test_wrong_tokens_from_one_address_are_refused_after_the_limit_while_others_still_join(hall: Hall) -> None:
    token = hall.token_mode()
    for n in range(20):
        assert await hall.observe(f"wrong-token-guess-{n:04d}") == ("refused", (4401, "watch token required"))

    kind, (code, reason) = await hall.observe("wrong-token-guess-0020")
    assert (kind, code) == ("refused", 4429) and "too many wrong watch tokens" in reason
    # From that address not even the right token is checked now (nothing is hashed until the wait ends)
    kind, (code, _reason) = await hall.observe(token)
    assert (kind, code) == ("refused", 4429)
    refused = hall.read("proposal_board", token=token)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "too_many_attempts"

    # Another address is not affected, over the websocket or HTTP
    assert (await hall.observe(token, source="127.0.0.2"))[0] == "hello"
    assert hall.read("proposal_board", token=token, source="127.0.0.2").status_code == 200
    # Nor is a signed-in delegate from the throttled address
    cookie, _csrf = hall.delegate
    assert hall.read("state", cookie=cookie).status_code == 200


# -- one rule for observers, over HTTP too ----------------------------------------------------------
READS = ["proposal_board", "proposal_detail", "proposal_stats", "check_receipt", "receipts", "state", "document",
         "chapters", "timeline"]


def test_in_token_mode_every_anonymous_read_needs_the_token(hall: Hall) -> None:
    token = hall.token_mode()
    for name in READS:
        missing = hall.read(name)
        assert missing.status_code == 401, (name, missing.text)
        assert missing.json()["error"]["code"] == "watch_token_required", name
        wrong = hall.read(name, token="not-the-token-at-all")
        assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "watch_token_required"), name
        by_query, by_header = hall.read(name, token=token), hall.read(name, token=token, header=True)
        assert by_query.status_code == 200, (name, by_query.text)
        assert by_header.status_code == 200, (name, by_header.text)
    detail = hall.read("proposal_detail", token=token).json()["result"]
    assert detail["title"] == "改善职工食堂"
    assert hall.read("check_receipt", token=token).json()["result"]["found"] is True


def test_with_watching_off_no_anonymous_read_is_answered_and_signed_in_people_are_not_asked(hall: Hall) -> None:
    hall.set_watch(mode="off")
    for name in READS:
        refused = hall.read(name, token="whatever-token-given")
        assert refused.status_code == 403, (name, refused.text)
        assert refused.json()["error"]["code"] == "watching_off", name
    cookie, _csrf = hall.delegate
    for name in READS:
        assert hall.read(name, cookie=cookie).status_code == 200, name
    hall.set_watch(mode="open")
    for name in READS:
        assert hall.read(name).status_code == 200, name


async def test_the_websocket_follows_the_same_rule(hall: Hall) -> None:
    token = hall.token_mode()
    assert await hall.observe() == ("refused", (4401, "watch token required"))
    assert (await hall.observe(token))[0] == "hello"
    assert (await hall.observe(token))[0] == "hello"  # the second from what this process knows
    hall.set_watch(mode="off")
    assert await hall.observe(token) == ("refused", (4403, "watching is switched off"))


# -- an old argon2 watch token ----------------------------------------------------------------------
async def test_a_token_hashed_by_an_older_version_is_not_checked_until_staff_issue_a_new_link(hall: Hall) -> None:
    # As an older version left it (the server has read nothing of this congress's watch setting yet)
    with hall.db.write() as session:
        congress = session.get(Congress, hall.congress_id)
        congress.watch_mode, congress.watch_token_hash = "token", hash_secret("观看口令-2026")
    refused = hall.read("proposal_board", token="观看口令-2026")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "watch_link_not_issued")
    kind, (code, reason) = await hall.observe("观看口令-2026")
    assert (kind, code) == ("refused", 4403) and "ask staff for a new one" in reason
    assert hall.staff_command("congress_setup", {}).json()["result"]["has_watch_token"] is False

    # Saving token mode issues a new link at once (there is none this server can check)
    token = hall.set_watch(mode="token")["token"]
    assert (await hall.observe(token))[0] == "hello"
    assert hall.read("proposal_board", token=token).status_code == 200


# -- writing without a session ----------------------------------------------------------------------
def test_an_anonymous_write_is_read_only_and_an_ended_session_is_told_to_sign_in(hall: Hall) -> None:
    url = f"{hall.base}/commands/add_agenda_item"
    body = {"kind": "审议", "title": "审议工作报告"}
    anonymous = httpx.post(url, json=body, timeout=30)
    assert anonymous.status_code == 403 and anonymous.json()["error"]["code"] == "read_only"

    cookie, csrf = hall.staff
    signed_out = httpx.post(f"{hall.server.url}/api/sign-out", json={},
                            headers={"cookie": f"{COOKIE}={cookie}", "x-csrf-token": csrf}, timeout=30)
    assert signed_out.status_code == 200
    ended = httpx.post(url, json=body, headers={"cookie": f"{COOKIE}={cookie}", "x-csrf-token": csrf}, timeout=30)
    assert ended.status_code == 401 and ended.json()["error"]["code"] == "not_signed_in"
