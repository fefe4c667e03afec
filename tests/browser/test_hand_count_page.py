"""A vote followed end to end from every seat: a group leader reports the on-site hand count of
their group from their phone, other delegates vote online, staff close, certify and publish, and an
observer sees the result with the hand-counted group marked — and only after publication."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from congress.db.models import Group, GroupCount
from tests.browser.conftest import LAPTOP, PHONE, accessibility_problems, shot
from tests.browser.test_english_pages import untranslated

pytestmark = pytest.mark.browser


def test_a_group_leader_reports_the_hand_count_from_a_phone_and_the_observer_sees_it_counted(site, open_page):
    story = site.story
    checked_in = set(site.check_in_before_pages_open())
    with site.db.read() as session:
        groups = {g.name: g.id for g in session.scalars(sa.select(Group).where(Group.congress_id == story.congress_id))}
    ningbo = groups["宁波"]
    leader = next(d for d in story.voting(ningbo) if d.is_group_leader)
    watch = open_page(f"/watch?congress={story.congress_id}", LAPTOP)
    expect(watch.locator("#figure-present")).to_have_text(str(len(checked_in)))
    if leader.employee_id not in checked_in:
        site.command(site.delegate(leader.employee_id), "check_in")
        checked_in.add(leader.employee_id)
    late = next(d for d in story.voting() if d.employee_id not in checked_in and d.group_id != ningbo)
    site.command(site.delegate(late.employee_id), "check_in")
    checked_in.add(late.employee_id)
    expect(watch.locator("#figure-present")).to_have_text(str(len(checked_in)))  # 实到, coalesced for observers
    present = sum(1 for d in story.voting(ningbo) if d.employee_id in checked_in)

    staff = site.staff()
    vote = site.command(staff, "create_vote", agenda_item_id=story.agenda[1]["id"], title="表决《职工薪酬福利调整方案》",
                        questions=[{"kind": "yes_no", "text": "是否同意《职工薪酬福利调整方案》"}],
                        hand_count_groups=[ningbo])

    page = open_page("/sign-in", PHONE)
    page.get_by_label("工号", exact=True).fill(leader.employee_id)
    page.get_by_label("访问码", exact=True).fill(story.codes[leader.employee_id])
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url("**/delegate")
    site.command(staff, "open_vote", vote_id=vote["id"])

    card = page.locator("section", has=page.get_by_role("heading", name="现场计票报送（宁波）"))
    expect(card).to_contain_text("表决《职工薪酬福利调整方案》")
    expect(page.locator(".vote-panel")).to_contain_text("现场计票")  # the leader's own ballot is on site too
    form = card.locator("form.handcount")
    form.get_by_label("本组实到人数").fill(str(present + 1))  # one more than are checked in: refused
    form.get_by_label("赞成").fill(str(present + 1))
    form.get_by_label("反对").fill("0")
    form.get_by_label("弃权").fill("0")
    form.get_by_label("本组监票人").fill("林晓")
    form.get_by_role("button", name="报送计票结果").click()
    expect(form.locator(".form-status")).to_contain_text(f"超过本组已签到的正式代表 {present} 人")
    with site.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(GroupCount)) == 0  # nothing stored

    form.get_by_label("本组实到人数").fill(str(present))
    form.get_by_label("赞成").fill(str(present - 2))
    form.get_by_label("反对").fill("1")
    form.get_by_label("弃权").fill("1")
    form.get_by_role("button", name="报送计票结果").click()
    # The card is redrawn with the stored figures: who reported them, with which scrutineer.
    expect(card).to_contain_text(f"已报送：{leader.name}，监票人 林晓")
    # …with each option's figure on record, and the form keeps the figures for a correction (not blank).
    expect(form.locator(".handcount-summary")).to_contain_text(f"宁波：本组实到 {present} 人，举手表决")
    expect(form.locator(".handcount-summary")).to_contain_text(f"赞成 {present - 2}，反对 1，弃权 1")
    expect(form.get_by_label("本组实到人数")).to_have_value(str(present))
    expect(form.get_by_label("赞成")).to_have_value(str(present - 2))
    expect(form.get_by_label("本组监票人")).to_have_value("林晓")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "the page scrolls sideways"
    assert accessibility_problems(page) == []
    shot(page, "leader-hand-count-reported", full_page=True)
    # In English: the group and the question are people's words (data), the server's check of the
    # figures (举手表决：…，核对无误) stays as the record, marked Chinese, under an English line.
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    summary = page.locator(".handcount-summary")
    expect(summary).to_contain_text(f"{present} present in the group, Show of hands")
    expect(summary).to_contain_text("Checked: the figures add up.")
    expect(summary.locator("[lang=zh-CN]")).to_contain_text("核对无误")
    assert untranslated(page) == []

    online = [d for d in story.voting() if d.employee_id in checked_in and d.group_id != ningbo][:12]
    question = str(vote["questions"][0]["id"])
    for delegate in online:
        site.command(site.delegate(delegate.employee_id), "cast_ballot", vote_id=vote["id"], answers={question: "yes"})
    expect(watch.locator(".vote-progress")).to_contain_text("已投 12")

    site.command(staff, "close_vote", vote_id=vote["id"])
    site.command(staff, "certify_vote", vote_id=vote["id"], scrutineer="刘志强")
    watch.wait_for_timeout(300)
    expect(watch.locator(".result-card")).to_have_count(0)  # certified, not yet published
    site.command(staff, "publish_vote", vote_id=vote["id"])

    result = watch.locator(".result-card")
    expect(result).to_contain_text("表决《职工薪酬福利调整方案》")
    expect(result).to_contain_text("宁波（举手表决）")
    expect(result.locator(".chart-row")).to_have_count(1 + len(groups))
    with site.db.read() as session:
        count = session.scalars(sa.select(GroupCount).where(GroupCount.vote_id == vote["id"])).one()
        assert (count.group_id, count.figures["present"], count.entered_by, count.scrutineer) == (
            ningbo, present, leader.name, "林晓")
