"""Drafts are read and co-signed by invitation only, and a delegate stays in their own congress
(issue 18, point 4): each finding of the probe, replayed over HTTP against a real server, on SQLite
and PostgreSQL.

Two congresses (tests/two_congresses.py). In each, 甲代表一 (…002) has a draft with a photo
attached and has invited 甲代表二 (…003) and 甲代表三 (…004) to co-sign it; a second proposal,
co-signed by the same two, is submitted. 甲组长 (…001) was asked to co-sign neither.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from congress.db.engine import Database
from congress.db.models import Cosignature
from congress.settings import Settings
from tests.story import LiveServer
from tests.two_congresses import Congresses, World, build_two


@dataclass
class Site:
    server: LiveServer
    two: Congresses
    db: Database

    def delegate(self, world: World, n: str) -> httpx.Client:
        employee_id = world.emp(n)
        http = httpx.Client(base_url=self.server.url, timeout=30)
        response = http.post("/api/sign-in", json={"employee_id": employee_id, "code": world.codes[employee_id],
                                                   "congress_id": world.congress_id})
        response.raise_for_status()
        http.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        return http


@pytest.fixture
def site(db: Database, database_url: str) -> Iterator[Site]:
    two = build_two(db, full=False)
    server = LiveServer(Settings(database_url=database_url, port=0, coalesce_seconds=0.05)).start()
    try:
        yield Site(server, two, db)
    finally:
        server.stop()


def command(http: httpx.Client, congress_id: int, op: str, **args: Any) -> httpx.Response:
    return http.post(f"/api/congresses/{congress_id}/commands/{op}", json=args)


def refusal(response: httpx.Response) -> tuple[int, str, str]:
    """(status, code, words with the ids blanked): what a prober can compare. An answer that is not
    a refusal shows as (200, "answered", what it gave)."""
    if not response.headers.get("content-type", "").startswith("application/json"):
        return response.status_code, "answered", response.headers.get("content-type", "")
    body = response.json()
    if "error" not in body:
        return response.status_code, "answered", str(body)[:160]
    return response.status_code, body["error"]["code"], re.sub(r"\d+", "N", body["error"]["message"])


def attachment(http: httpx.Client, world: World) -> httpx.Response:
    return http.get(f"/api/congresses/{world.congress_id}/proposals/{world.ids['draft']}/attachments/"
                    f"{world.ids['attachment']}")


def cosigners_of(db: Database, proposal_id: int) -> dict[int, str]:
    with db.read() as session:
        return dict(session.execute(sa.select(Cosignature.delegate_id, Cosignature.status)
                                    .where(Cosignature.proposal_id == proposal_id)).all())


def test_declining_uninvited_does_not_tell_a_draft_from_a_submitted_proposal(site):
    """Was: `not_invited` for a draft, `bad_proposal_state` for a submitted proposal."""
    one = site.two.one
    outsider = site.delegate(one, "001")

    draft = command(outsider, one.congress_id, "answer_cosign", proposal_id=one.ids["draft"], accept=False)
    submitted = command(outsider, one.congress_id, "answer_cosign", proposal_id=one.ids["submitted"], accept=False)
    never = command(outsider, one.congress_id, "answer_cosign", proposal_id=987_654, accept=False)

    assert refusal(draft) == refusal(submitted) == refusal(never) == (404, "not_found", "找不到提案（编号 N）")


def test_co_signing_uninvited_is_refused_and_the_draft_stays_unreadable(site):
    """Was: accept=true without an invitation made them a co-signer, and proposal_detail then gave
    the draft's full text and its attachments."""
    one = site.two.one
    outsider = site.delegate(one, "001")
    before = cosigners_of(site.db, one.ids["draft"])

    accepted = command(outsider, one.congress_id, "answer_cosign", proposal_id=one.ids["draft"], accept=True)
    detail = command(outsider, one.congress_id, "proposal_detail", proposal_id=one.ids["draft"])
    invitation = command(outsider, one.congress_id, "cosign_invitation", proposal_id=one.ids["draft"])

    assert refusal(accepted) == refusal(detail) == (404, "not_found", "找不到提案（编号 N）")
    assert refusal(invitation)[:2] == (404, "not_found")
    assert refusal(attachment(outsider, one)) == (404, "not_found", "找不到这个附件")
    assert cosigners_of(site.db, one.ids["draft"]) == before  # nobody was added


def test_declining_an_invitation_ends_reading_the_draft(site):
    """Was: after declining, proposal_detail still gave the draft (its text and attachments)."""
    one = site.two.one
    invitee, proposer = site.delegate(one, "003"), site.delegate(one, "002")
    pid = one.ids["draft"]

    # Invited: they read what they are asked to sign, the photo too
    read = command(invitee, one.congress_id, "proposal_detail", proposal_id=pid)
    assert read.status_code == 200, read.text
    shown = read.json()["result"]
    assert shown["reason"].startswith("夜班职工") and [a["id"] for a in shown["attachments"]] == [one.ids["attachment"]]
    assert attachment(invitee, one).status_code == 200
    assert command(invitee, one.congress_id, "cosign_invitation", proposal_id=pid).status_code == 200

    declined = command(invitee, one.congress_id, "answer_cosign", proposal_id=pid, accept=False)
    assert declined.status_code == 200, declined.text

    assert refusal(command(invitee, one.congress_id, "proposal_detail", proposal_id=pid)) == \
        (404, "not_found", "找不到提案（编号 N）")
    assert refusal(attachment(invitee, one))[:2] == (404, "not_found")
    assert refusal(command(invitee, one.congress_id, "cosign_invitation", proposal_id=pid))[:2] == (404, "not_found")
    # ... nor can they change their mind alone: accepting now needs a new invitation
    assert refusal(command(invitee, one.congress_id, "answer_cosign", proposal_id=pid, accept=True))[:2] == \
        (404, "not_found")
    # ... and their page no longer lists it
    state = invitee.get(f"/api/congresses/{one.congress_id}/state").json()
    assert pid not in [p["id"] for p in state["snapshot"]["proposals"]["cosign_requests"]]

    # The proposer asks again: the invitation is open again, and with it the draft
    assert command(proposer, one.congress_id, "invite_cosigners", proposal_id=pid,
                   employee_ids=[one.emp("003")]).status_code == 200
    assert command(invitee, one.congress_id, "proposal_detail", proposal_id=pid).status_code == 200

    # One who accepted reads all they signed, but not whom else the proposer asked (the proposer's)
    signer = site.delegate(one, "004")
    assert command(signer, one.congress_id, "answer_cosign", proposal_id=pid, accept=True).status_code == 200
    signed = command(signer, one.congress_id, "proposal_detail", proposal_id=pid).json()["result"]
    assert [a["id"] for a in signed["attachments"]] == [one.ids["attachment"]] and "invitations" not in signed
    mine = command(proposer, one.congress_id, "proposal_detail", proposal_id=pid).json()["result"]
    assert {i["employee_id"]: i["status"] for i in mine["invitations"]} == {one.emp("003"): "invited",
                                                                          one.emp("004"): "accepted"}


def test_a_delegate_cannot_co_sign_or_read_another_congress_s_draft(site):
    """Was: a congress-1 delegate co-signed congress 2's draft through /api/congresses/2/… and then
    read it whole."""
    one, two = site.two.one, site.two.two
    visitor = site.delegate(one, "001")
    pid = two.ids["draft"]
    before = cosigners_of(site.db, pid)

    under_theirs = [command(visitor, two.congress_id, "answer_cosign", proposal_id=pid, accept=True),
                    command(visitor, two.congress_id, "proposal_detail", proposal_id=pid),
                    command(visitor, two.congress_id, "cosign_invitation", proposal_id=pid),
                    attachment(visitor, two),
                    visitor.get(f"/api/congresses/{two.congress_id}/state")]
    under_mine = [command(visitor, one.congress_id, "answer_cosign", proposal_id=pid, accept=True),
                  command(visitor, one.congress_id, "proposal_detail", proposal_id=pid)]

    assert [refusal(r)[:2] for r in under_theirs] == [(403, "other_congress")] * len(under_theirs)
    assert [refusal(r) for r in under_mine] == [(404, "not_found", "找不到提案（编号 N）")] * 2
    assert refusal(visitor.get(f"/api/congresses/{one.congress_id}/proposals/{pid}/attachments/"
                               f"{two.ids['attachment']}")) == (404, "not_found", "找不到这个附件")
    assert cosigners_of(site.db, pid) == before


def test_the_delegate_directory_lists_only_the_delegate_s_own_congress(site):
    """Was: under /api/congresses/2/… a congress-1 delegate listed congress 2's delegates."""
    one, two = site.two.one, site.two.two
    delegate = site.delegate(one, "002")

    own = command(delegate, one.congress_id, "delegate_directory", query="甲")
    other = command(delegate, two.congress_id, "delegate_directory", query="甲")

    assert own.status_code == 200
    assert {d["employee_id"] for d in own.json()["result"]["delegates"]} == {"A001", "A002", "A003", "A004"}
    assert refusal(other)[:2] == (403, "other_congress")
