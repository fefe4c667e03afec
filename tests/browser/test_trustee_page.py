"""The trustees (监票人) on their own phones: staff name three delegates on the staff page, each makes a
key file on the trustee page (downloaded, never stored by the browser, never sent), the three make the
key together; a secret vote is cast with sealed ballots, two trustees decrypt only the totals (one after
a reload, from the key file), staff certify the count. A delegate who is not a trustee cannot act."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from congress.db.models import DecryptionShare, KeyCeremony, Vote
from congress.reads.votes import vote_json
from congress.sealed.group import scalar_hex
from congress.sealed.kit import key_file_text, next_message, seal_answers, seed_from_key_file, share_of
from congress.sealed.trustees import new_seed
from tests.browser.conftest import PHONE, PROJECTOR, Site, accessibility_problems, shot, sign_in_staff

pytestmark = pytest.mark.browser

# Who votes what: 6 in the main hall, 2 + 1 in two small groups (pooled with the main hall: fewer than 5).
ANSWERS = ["yes", "yes", "no", "yes", "abstain", "yes", "yes", "no", "yes"]


class Sent:
    """Everything one page sends: websocket frames and HTTP request bodies."""

    def __init__(self, page: Any) -> None:
        self.frames: list[str] = []
        self.bodies: list[str] = []
        page.on("websocket", lambda ws: ws.on("framesent", lambda payload: self.frames.append(
            payload if isinstance(payload, str) else payload.decode("utf-8", "replace"))))
        page.on("request", self._request)

    def _request(self, request: Any) -> None:
        try:
            body = request.post_data_buffer
        except Exception:  # noqa: BLE001 - a body Playwright cannot read is reported as such
            body = b"<unreadable>"
        if body:
            self.bodies.append(body.decode("utf-8", "replace"))

    def text(self) -> str:
        return "\n".join(self.frames + self.bodies)

    def ops(self) -> list[str]:
        out = []
        for frame in self.frames:
            try:
                out.append(json.loads(frame).get("op", ""))
            except ValueError:
                out.append("?")
        return out


def sign_in_delegate(open_page: Any, site: Site, employee_id: str) -> tuple[Any, Sent]:
    """A delegate signs in on a phone; returns the page (on /delegate) and what it sends from now on."""
    page = open_page("/sign-in", PHONE)
    sent = Sent(page)
    page.get_by_label("工号", exact=True).fill(employee_id)
    page.get_by_label("访问码", exact=True).fill(site.story.codes[employee_id])
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url("**/delegate")
    return page, sent


def stored_in_browser(page: Any) -> str:
    return page.evaluate("""() => JSON.stringify({local: {...localStorage}, session: {...sessionStorage},
                                                  cookie: document.cookie})""")


def post_decryptions(site: Site, vote_id: int) -> list[int]:
    with site.db.read() as session:
        return sorted(session.scalars(sa.select(DecryptionShare.trustee_index)
                                      .where(DecryptionShare.vote_id == vote_id)))


def test_three_trustees_make_the_key_on_their_phones_and_two_decrypt_a_secret_vote(site, open_page, tmp_path: Path):
    story = site.story
    checked_in = set(site.check_in_before_pages_open(0.7))
    hall = story.voting(story.delegates[0].group_id)
    trustees = [d for d in hall if d.employee_id in checked_in and not d.is_group_leader][-3:]
    staff_http = site.staff()
    vote = site.command(staff_http, "create_vote", agenda_item_id=story.agenda[1]["id"], title="表决《职工薪酬福利调整方案》（无记名）",
                        is_secret=True, questions=[{"kind": "yes_no", "text": "是否同意《职工薪酬福利调整方案》"}])

    # Staff: a secret vote cannot open without the trustees' key; the server's words are shown.
    staff = sign_in_staff(open_page, site)
    staff.get_by_role("link", name="表决", exact=True).click()
    card = staff.locator(f"#vote-card-{vote['id']}")
    expect(card.locator(f"#vote-{vote['id']}-needs-key")).to_be_visible()
    card.get_by_role("button", name="开始表决").click()
    staff.get_by_role("dialog").get_by_role("button", name="确认开始表决").click()  # staff are asked first
    expect(card.locator(".form-status")).to_contain_text("无记名投票须先由监票人生成密钥")
    trustee_card = staff.locator("#trustees-card")
    expect(trustee_card.locator("#no-ceremony")).to_be_visible()

    # Too few trustees is refused before anything is sent; then three are named, 2 needed.
    trustee_card.get_by_label("监票人工号（每行一个）").fill(f"{trustees[0].employee_id}\n{trustees[1].employee_id}")
    trustee_card.get_by_role("button", name="指定监票人并发起密钥生成").click()
    expect(trustee_card.locator("#trustees-status")).to_contain_text("监票人至少 3 位（填写了 2 位）")
    trustee_card.get_by_label("监票人工号（每行一个）").fill("\n".join(d.employee_id for d in trustees))
    expect(trustee_card.get_by_label("解密所需人数")).to_have_value("2")
    trustee_card.get_by_role("button", name="指定监票人并发起密钥生成").click()
    expect(trustee_card.locator("#ceremony-status")).to_have_text("生成中")
    expect(trustee_card.locator("#ceremony-table tbody tr")).to_have_count(3)
    expect(trustee_card.locator("#ceremony-table")).to_contain_text(trustees[2].name)

    # Each trustee signs in on a phone, is shown the way to the trustee page, makes a key file.
    pages, sent, files, seeds = [], [], [], []
    for index, trustee in enumerate(trustees, start=1):
        page, log = sign_in_delegate(open_page, site, trustee.employee_id)
        expect(page.locator("#trustee-link")).to_contain_text(f"您是本次职代会的第 {index} 位监票人")
        if index == 1:
            shot(page, "delegate-trustee-link-phone")
        page.get_by_role("link", name="打开监票人页面").click()
        page.wait_for_url("**/trustee")
        expect(page.get_by_role("heading", name=f"我的密钥（第 {index} 位监票人）")).to_be_visible()
        if index == 1:
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "the page scrolls sideways"
            assert accessibility_problems(page) == []
            shot(page, "trustee-1-start-phone", full_page=True)
        with page.expect_download() as info:
            page.get_by_role("button", name="生成密钥文件").click()
        download = info.value
        assert download.suggested_filename == f"监票人密钥-{trustee.employee_id}.json"
        path = tmp_path / download.suggested_filename
        download.save_as(path)
        expect(page.locator(".key-warning")).to_contain_text("不要把它交给任何人，包括工作人员")
        if index == 1:
            assert accessibility_problems(page) == []
            shot(page, "trustee-2-key-file-phone", full_page=True)
        # Nothing is posted before the trustee says the file is saved.
        assert "post_trustee_message" not in log.ops()
        page.get_by_role("button", name="我已保存好，开始生成密钥").click()
        pages.append(page)
        sent.append(log)
        files.append(path)
        seeds.append(seed_from_key_file(path.read_text(encoding="utf-8")))
        assert path.read_text(encoding="utf-8") == key_file_text(seeds[-1])  # byte for byte what the CLI writes
    assert len({s.hex() for s in seeds}) == 3

    for page in pages:
        expect(page.locator("#ceremony-status")).to_have_text("密钥已生成", timeout=30_000)
        expect(page.locator("#key-progress")).to_contain_text("密钥已生成")
    with site.db.read() as session:
        ceremony = session.scalars(sa.select(KeyCeremony).order_by(KeyCeremony.id.desc())).first()
        assert ceremony is not None and ceremony.status == "ready"
        public_key = ceremony.public_key
    fingerprint = " ".join(public_key[i:i + 4] for i in range(0, 16, 4)).upper()
    for page in pages:
        expect(page.locator("#key-fingerprint")).to_have_text(fingerprint)
    expect(trustee_card.locator("#ceremony-status")).to_have_text("密钥已生成")
    summary = trustee_card.locator(".trustees-details > summary")
    expect(summary).to_contain_text(fingerprint)  # one line while the session runs …
    expect(trustee_card.locator("#ceremony-table")).to_be_hidden()
    summary.click()  # … the trustees and their rounds on demand
    expect(trustee_card.locator("#key-fingerprint")).to_have_text(fingerprint)
    expect(trustee_card.locator(".round-done")).to_have_count(9)
    shot(pages[0], "trustee-3-key-ready-phone", full_page=True)
    pages[1].get_by_role("button", name="English").click()
    expect(pages[1].locator("#key-progress")).to_contain_text("All your rounds are done")
    expect(pages[1].locator("#ceremony-status")).to_have_text("Key ready")
    shot(pages[1], "trustee-3-key-ready-phone-en", full_page=True)
    trustee_card.scroll_into_view_if_needed()
    shot(staff, "staff-trustees-ready-laptop")
    staff.set_viewport_size({"width": 1366, "height": 768})
    trustee_card.scroll_into_view_if_needed()
    assert accessibility_problems(staff) == []
    shot(staff, "staff-trustees-ready-1366x768")

    # The seed stays on the phone: not in the browser's storage, not in the page, not in anything sent.
    for page, log, seed in zip(pages, sent, seeds, strict=True):
        assert seed.hex() not in stored_in_browser(page)
        assert seed.hex() not in page.content()
        assert log.frames and seed.hex() not in log.text()
        assert [op for op in log.ops() if op == "post_trustee_message"] == ["post_trustee_message"] * 3

    # A secret vote: opened from the staff page, nine sealed ballots, closed.
    card.get_by_role("button", name="开始表决").click()
    staff.get_by_role("dialog").get_by_role("button", name="确认开始表决").click()
    expect(card.locator(".tag.status-open")).to_be_visible()
    with site.db.read() as session:  # the vote as the delegates' phones read it, with the key to seal under
        sealed_vote = vote_json(session.get(Vote, vote["id"]))
    assert sealed_vote["sealing"]["public_key"] == public_key
    qid = str(sealed_vote["questions"][0]["id"])
    groups = sorted({d.group_id for d in story.delegates})
    voters = ([d for d in hall if d.employee_id in checked_in][:6]
              + [d for d in story.voting(groups[1]) if d.employee_id in checked_in][:2]
              + [d for d in story.voting(groups[2]) if d.employee_id in checked_in][:1])
    assert len(voters) == len(ANSWERS)
    for voter, answer in zip(voters, ANSWERS, strict=True):
        site.command(site.delegate(voter.employee_id), "cast_ballot", vote_id=vote["id"],
                     sealed=seal_answers(sealed_vote, {qid: answer}))

    watch = open_page(f"/watch?congress={story.congress_id}")
    screen = open_page(f"/screen?congress={story.congress_id}", PROJECTOR)
    voter_page, _log = sign_in_delegate(open_page, site, voters[0].employee_id)
    card.get_by_role("button", name="截止并计票").click()
    staff.get_by_role("dialog").get_by_role("button", name="确认截止并计票").click()
    awaiting = card.locator(f"#vote-{vote['id']}-awaiting")
    expect(awaiting).to_have_text("等待监票人解密：已提交 0/2")
    expect(card.get_by_role("button", name="总监票人确认")).to_have_count(0)
    expect(watch.locator(".vote-waiting")).to_contain_text("已截止，等待监票人解密")
    expect(screen.locator(".screen-waiting")).to_contain_text("已截止，等待监票人解密")
    assert accessibility_problems(screen) == []
    shot(screen, "screen-awaiting-trustees")
    expect(voter_page.locator("#results")).to_contain_text("已截止，等待监票人解密")
    voter_page.reload()  # the snapshot says so too
    expect(voter_page.locator("#results")).to_contain_text("已截止，等待监票人解密")
    card.scroll_into_view_if_needed()
    shot(staff, "staff-vote-awaiting-trustees")

    # Trustee 1 decrypts with the key still in the page's memory.
    item = pages[0].locator(f".decrypt-item[data-vote-id='{vote['id']}']")
    expect(item).to_contain_text("已提交 0/2")
    item.get_by_role("button", name="解密本表决的合计").click()
    expect(item).to_contain_text("您已提交本表决的解密份额")
    expect(item).to_contain_text("已提交 1/2")
    expect(awaiting).to_have_text("等待监票人解密：已提交 1/2")
    assert post_decryptions(site, vote["id"]) == [1]
    assert accessibility_problems(pages[0]) == []
    shot(pages[0], "trustee-4-decrypted-phone", full_page=True)

    # Trustee 3 comes back later: after a reload the page holds no key until the file is loaded.
    third = pages[2]
    third.reload()
    item3 = third.locator(f".decrypt-item[data-vote-id='{vote['id']}']")
    expect(item3).to_contain_text("已提交 1/2")
    expect(item3.get_by_role("button", name="解密本表决的合计")).to_be_disabled()
    third.get_by_label("载入密钥文件（解密时需要）").set_input_files(str(files[2]))
    expect(third.locator(".key-loaded")).to_contain_text(files[2].name)
    item3.get_by_role("button", name="解密本表决的合计").click()
    expect(item3).to_contain_text("已解密，计票结果已得出")
    assert post_decryptions(site, vote["id"]) == [1, 3]
    shot(third, "trustee-5-after-reload-phone", full_page=True)

    # The share each trustee used, x_j, was never sent either.
    state = site.command(staff_http, "ceremony_state")["ceremony"]
    for index in (1, 3):
        log = sent[index - 1]
        assert scalar_hex(share_of(state, index, seeds[index - 1])) not in log.text()
        assert seeds[index - 1].hex() not in log.text()
        assert seeds[index - 1].hex() not in stored_in_browser(pages[index - 1])
    assert "post_decryption" not in sent[1].ops()

    # Staff: the result, as cast; then the certification.
    result = card.locator(".stored-result")
    expect(result).to_contain_text("尚未公布")
    expect(result).to_contain_text("（合并计票）")  # the two small groups are counted with the main hall
    with site.db.read() as session:
        stored = session.get(Vote, vote["id"]).result
    question = stored["questions"][0]
    assert {o["key"]: o["count"] for o in question["options"]} == {
        k: ANSWERS.count(k) for k in ("yes", "no", "abstain")}
    assert stored["cast"] == len(ANSWERS)
    pooled = [g for g in question["groups"] if g.get("group_ids")]
    assert len(pooled) == 1 and pooled[0]["returned"] == len(ANSWERS)
    expect(result.locator(".chart-row.is-total .chart-numbers")).to_contain_text(
        f"赞成 {ANSWERS.count('yes')} · 反对 {ANSWERS.count('no')} · 弃权 {ANSWERS.count('abstain')}")
    expect(watch.locator(".vote-waiting")).to_have_count(0)
    expect(voter_page.locator("#results")).to_contain_text("表决已截止，等待公布结果")
    expect(voter_page.locator("#results")).not_to_contain_text("等待监票人解密")
    card.get_by_label("总监票人姓名").fill("刘志强")
    card.get_by_role("button", name="总监票人确认").click()
    expect(card).to_contain_text("已确认（总监票人 刘志强）")
    card.get_by_role("button", name="公布结果").click()
    staff.get_by_role("dialog").get_by_role("button", name="确认公布结果").click()
    published = watch.locator(f".result-card[data-vote-id='{vote['id']}']")
    expect(published).to_contain_text("（合并计票）")
    expect(published.locator(".outcome")).to_contain_text("赞成")
    expect(screen.locator(".screen-result")).to_contain_text("（合并计票）")
    expect(voter_page.locator(".result-card")).to_contain_text("（合并计票）")
    shot(watch, "watch-sealed-published-pooled", full_page=True)


def test_a_delegate_who_is_not_a_trustee_can_only_watch(site, open_page):
    story = site.story
    hall = story.voting(story.delegates[0].group_id)
    trustees, outsider = hall[-3:], hall[0]
    staff = site.staff()
    named = site.command(staff, "name_trustees", employee_ids=[d.employee_id for d in trustees], threshold=2)

    # Not signed in: the page says so and links to the sign-in page.
    anonymous = open_page("/trustee", PHONE)
    expect(anonymous.locator("#sign-in-link")).to_have_attribute("href", "/sign-in")

    page, sent = sign_in_delegate(open_page, site, outsider.employee_id)
    expect(page.get_by_role("link", name="打开监票人页面")).to_have_count(0)  # not a trustee
    page.goto(site.url + "/trustee")
    expect(page.locator("#ceremony-status")).to_have_text("生成中")
    expect(page.locator("#ceremony-table tbody tr")).to_have_count(3)
    expect(page.locator("#not-trustee")).to_contain_text("只有被指定的监票人才在本页操作")
    expect(page.get_by_role("button", name="生成密钥文件")).to_have_count(0)
    expect(page.locator("input[type=file]")).to_have_count(0)
    expect(page.get_by_role("button")).to_have_text(["English", "退出登录"])  # nothing else to press
    assert accessibility_problems(page) == []
    shot(page, "trustee-not-a-trustee-phone", full_page=True)
    page.get_by_role("button", name="English").click()
    expect(page.locator("#not-trustee")).to_contain_text("Only the named scrutineers act on this page")
    expect(page.locator("#ceremony-status")).to_have_text("Being made")
    shot(page, "trustee-not-a-trustee-phone-en", full_page=True)
    page.get_by_role("button", name="中文").click()
    expect(page.locator("#ceremony-status")).to_have_text("生成中")

    # A trustee posts round 1 elsewhere: the outsider's page follows it live.
    seed = new_seed()
    state = site.command(site.delegate(trustees[0].employee_id), "ceremony_state")["ceremony"]
    step = next_message(state, 1, seed)
    assert step is not None
    site.command(site.delegate(trustees[0].employee_id), "post_trustee_message",
                 ceremony_id=named["ceremony_id"], round=step[0], message=step[1])
    expect(page.locator("#ceremony-round")).to_contain_text("1/3")
    expect(page.locator("#ceremony-table tbody tr[data-trustee='1'] .round-done")).to_have_count(1)

    # The server refuses the outsider too, whatever they send.
    client = site.delegate(outsider.employee_id)
    forged = next_message(state, 2, new_seed())
    assert forged is not None
    response = client.post(f"/api/congresses/{story.congress_id}/commands/post_trustee_message",
                           json={"ceremony_id": named["ceremony_id"], "round": 1, "message": forged[1]})
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "forbidden"
    assert "post_trustee_message" not in sent.ops() and "post_decryption" not in sent.ops()


def test_a_failed_ceremony_shows_the_complaint_and_staff_start_again(site, open_page):
    story = site.story
    trustees = story.voting(story.delegates[0].group_id)[-3:]
    staff = sign_in_staff(open_page, site)
    staff.get_by_role("link", name="表决", exact=True).click()
    card = staff.locator("#trustees-card")
    card.get_by_label("监票人工号（每行一个）").fill("，".join(d.employee_id for d in trustees))  # any separator
    card.get_by_label("解密所需人数").fill("3")
    card.get_by_role("button", name="指定监票人并发起密钥生成").click()
    expect(card.locator("#ceremony-table")).to_contain_text("3 位监票人，任意 3 位即可解密")
    second, _sent = sign_in_delegate(open_page, site, trustees[1].employee_id)
    second.goto(site.url + "/trustee")
    expect(second.get_by_role("button", name="生成密钥文件")).to_be_visible()

    # Rounds 1 and 2 from the trustees' own computers; in round 3 trustee 1 complains.
    clients = [site.delegate(d.employee_id) for d in trustees]
    seeds = [new_seed() for _ in trustees]
    for _round in (1, 2):
        for index, client in enumerate(clients, start=1):
            state = site.command(client, "ceremony_state")["ceremony"]
            step = next_message(state, index, seeds[index - 1])
            assert step is not None and step[0] == _round
            site.command(client, "post_trustee_message", ceremony_id=state["ceremony_id"], round=step[0], message=step[1])
    expect(card.locator("#ceremony-round")).to_contain_text("第 3 轮（核对并确认）：0/3")
    ceremony_id = site.command(clients[0], "ceremony_state")["ceremony"]["ceremony_id"]
    site.command(clients[0], "post_trustee_message", ceremony_id=ceremony_id, round=3,
                 message={"trustee": 1, "complaint": "第 2 位监票人发来的份额与其公开承诺不符"})

    expect(card.locator("#ceremony-status")).to_have_text("生成失败")
    expect(card.locator("#ceremony-failed")).to_contain_text("第 1 位监票人的异议：")
    expect(card.locator("#ceremony-failed")).to_contain_text("第 2 位监票人发来的份额与其公开承诺不符")
    expect(second.locator("#ceremony-failed")).to_contain_text("第 2 位监票人发来的份额与其公开承诺不符")
    expect(second.get_by_role("button", name="生成密钥文件")).to_have_count(0)
    second.set_viewport_size({"width": 1366, "height": 768})  # the same page on a laptop
    assert accessibility_problems(second) == []
    shot(second, "trustee-failed-1366x768", full_page=True)
    card.scroll_into_view_if_needed()
    assert accessibility_problems(staff) == []
    shot(staff, "staff-trustees-failed")

    card.get_by_role("button", name="用同一名单重新发起").click()
    expect(card.locator("#ceremony-status")).to_have_text("生成中")
    expect(card.locator(".round-done")).to_have_count(0)
    expect(card.locator("#ceremony-table")).to_contain_text("3 位监票人，任意 3 位即可解密")
    with site.db.read() as session:
        latest = session.scalars(sa.select(KeyCeremony).order_by(KeyCeremony.id.desc())).first()
        assert latest is not None and latest.id != ceremony_id and latest.status == "collecting"
    # The trustee's page follows the new ceremony: a key file can be made again.
    expect(second.locator("#ceremony-status")).to_have_text("生成中")
    expect(second.get_by_role("button", name="生成密钥文件")).to_be_visible()
