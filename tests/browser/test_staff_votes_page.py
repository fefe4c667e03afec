"""Staff running a vote (issue 21: major 3, minor 6, 9, 11, 12): the irreversible steps ask first in
the page, with live figures; the agenda can follow the vote; 重新表决 is out of the way and says
which round it creates; ballots that arrived after the close are counted for staff; the running
vote's progress is in view at 1366×768; a hand count stays readable and correctable after 报送."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from congress.db.models import Congress, Group, Vote
from tests.browser.conftest import PHONE, Site, accessibility_problems, shot, sign_in_staff

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 768}
TITLE = "表决《职工薪酬福利调整方案》"
QUESTION = {"kind": "yes_no", "text": "是否同意《职工薪酬福利调整方案》"}


def vote_status(site: Site, vote_id: int) -> str:
    with site.db.read() as session:
        return session.get(Vote, vote_id).status


def current_item_id(site: Site) -> int | None:
    with site.db.read() as session:
        return session.get(Congress, site.story.congress_id).current_agenda_item_id


def cast_yes(site: Site, vote: dict[str, Any], delegates: list[Any]) -> list[dict[str, Any]]:
    question = str(vote["questions"][0]["id"])
    return [site.command(site.delegate(d.employee_id), "cast_ballot", vote_id=vote["id"], answers={question: "yes"})
            for d in delegates]


def votes_view(open_page: Any, site: Site) -> Any:
    page = sign_in_staff(open_page, site)
    page.set_viewport_size(DESKTOP)
    page.get_by_role("link", name="表决", exact=True).click()
    return page


def test_staff_are_asked_before_opening_closing_and_publishing_with_the_live_figures(site: Site, open_page: Any) -> None:
    story = site.story
    checked_in = site.check_in_before_pages_open()
    present = len(checked_in)
    staff_http = site.staff()
    item = story.agenda[1]
    site.command(staff_http, "set_current_item", item_id=story.agenda[0]["id"])  # the agenda is still on the item before
    vote = site.command(staff_http, "create_vote", agenda_item_id=item["id"], title=TITLE, questions=[QUESTION])
    page = votes_view(open_page, site)
    card = page.locator(f"#vote-card-{vote['id']}")
    dialog = page.get_by_role("dialog")

    # 开始表决 asks first, with 实到 / 应到 and an offer to move the agenda; Escape cancels.
    card.get_by_role("button", name="开始表决").click()
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text(f"开始表决：{TITLE}？")
    expect(dialog).to_contain_text(f"实到 {present} / 应到 {len(story.voting())}")
    move = dialog.get_by_label(f"同时把当前议程切换到“{item['title']}”")
    expect(move).to_be_checked()
    expect(dialog.get_by_role("button", name="取消")).to_be_focused()  # Enter alone does nothing irreversible
    assert accessibility_problems(page) == []
    shot(page, "staff-ask-open-1366x768")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(card.get_by_role("button", name="开始表决")).to_be_focused()  # focus back where it was
    assert vote_status(site, vote["id"]) == "draft"

    card.get_by_role("button", name="开始表决").click()
    dialog.get_by_role("button", name="确认开始表决").click()
    expect(card.locator(".tag.status-open")).to_be_visible()
    expect(card.locator(f"#vote-{vote['id']}-status")).to_have_text(f"表决已开始；当前议程已切换到“{item['title']}”。")
    assert current_item_id(site) == item["id"]

    # 截止并计票 names what the close does, with 已投 / 实到 that follow the ballots while it is open.
    voters = [d for d in story.voting() if d.employee_id in set(checked_in)][:4]
    cast_yes(site, vote, voters[:3])
    expect(card.locator(".progress-line")).to_contain_text("已投 3")
    card.get_by_role("button", name="截止并计票").click()
    expect(dialog).to_contain_text("截止后未送达的选票将不计入")
    expect(dialog.locator(f"#vote-{vote['id']}-close-figures")).to_have_text(f"已投 3 / 实到 {present}")
    cast_yes(site, vote, voters[3:])
    expect(dialog.locator(f"#vote-{vote['id']}-close-figures")).to_have_text(f"已投 4 / 实到 {present}")
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.querySelector('dialog').getBoundingClientRect().right") <= PHONE["width"]
    shot(page, "staff-ask-close-360x740")
    dialog.get_by_role("button", name="取消").click()
    expect(dialog).to_have_count(0)
    assert vote_status(site, vote["id"]) == "open"
    page.set_viewport_size(DESKTOP)
    card.get_by_role("button", name="截止并计票").click()
    dialog.get_by_role("button", name="确认截止并计票").click()
    expect(card.locator(".stored-result")).to_contain_text("尚未公布")
    # The rule is labelled as the rule, apart from the outcome (minor 6).
    expect(card.locator(".stored-result .outcome")).to_contain_text("未通过")
    expect(card.locator(".stored-result .rule")).to_have_text("通过规则：赞成票超过全体职工代表的半数")

    # 公布结果 names what becomes public, and to whom.
    card.get_by_label("总监票人姓名").fill("刘志强")
    card.get_by_role("button", name="总监票人确认").click()
    expect(card).to_contain_text("已确认（总监票人 刘志强）")
    card.get_by_role("button", name="公布结果").click()
    expect(dialog).to_contain_text("公布后，所有代表的手机、云听会的观众和会场大屏都将看到")
    expect(dialog.locator(".confirm-outcomes")).to_contain_text(QUESTION["text"])
    expect(dialog.locator(".confirm-outcomes")).to_contain_text("未通过")
    expect(dialog).to_contain_text("总监票人 刘志强")
    expect(dialog).to_contain_text("公布后不能撤回")
    shot(page, "staff-ask-publish-1366x768")
    assert vote_status(site, vote["id"]) == "closed"
    dialog.get_by_role("button", name="确认公布结果").click()
    expect(card.locator(".stored-result")).to_contain_text("已公布")
    assert vote_status(site, vote["id"]) == "published"


def test_vote_again_is_apart_from_certify_names_its_round_and_focuses_the_new_draft(site: Site, open_page: Any) -> None:
    story = site.story
    site.check_in_before_pages_open()
    staff_http = site.staff()
    vote = site.command(staff_http, "create_vote", agenda_item_id=story.agenda[1]["id"], title=TITLE, questions=[QUESTION])
    site.command(staff_http, "open_vote", vote_id=vote["id"])
    site.command(staff_http, "close_vote", vote_id=vote["id"])
    page = votes_view(open_page, site)
    card = page.locator(f"#vote-card-{vote['id']}")

    expect(card.get_by_role("button", name="总监票人确认")).to_be_visible()
    expect(card.get_by_role("button", name="重新表决")).to_be_hidden()  # not beside 总监票人确认
    card.get_by_text("更多", exact=True).click()
    card.get_by_role("button", name="重新表决").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("将创建第 2 轮表决（草稿），事项与第 1 轮相同")
    shot(page, "staff-ask-repeat-1366x768")
    dialog.get_by_role("button", name="确认创建第 2 轮").click()

    expect(card.locator(f"#vote-{vote['id']}-status")).to_contain_text("已创建第 2 轮表决（草稿）")
    with site.db.read() as session:
        again = session.scalars(sa.select(Vote).where(Vote.agenda_item_id == story.agenda[1]["id"], Vote.round == 2)).one()
    new_card = page.locator(f"#vote-card-{again.id}")
    expect(new_card).to_be_focused()
    expect(new_card).to_contain_text("第 2 轮")
    expect(new_card.locator(".tag.status-draft")).to_have_text("草稿")
    assert vote_status(site, vote["id"]) == "closed"  # the first round stays as it was


def test_staff_see_how_many_ballots_arrived_after_the_close(site: Site, open_page: Any) -> None:
    story = site.story
    checked_in = set(site.check_in_before_pages_open())
    staff_http = site.staff()
    vote = site.command(staff_http, "create_vote", agenda_item_id=story.agenda[1]["id"], title=TITLE, questions=[QUESTION])
    site.command(staff_http, "open_vote", vote_id=vote["id"])
    page = votes_view(open_page, site)
    card = page.locator(f"#vote-card-{vote['id']}")
    expect(card.locator(".tag.status-open")).to_be_visible()
    site.command(staff_http, "close_vote", vote_id=vote["id"])
    expect(card.locator(".stored-result")).to_be_visible()
    expect(card.locator(f"#vote-{vote['id']}-late")).to_have_count(0)

    late = [d for d in story.voting() if d.employee_id in checked_in][:2]
    answers = cast_yes(site, vote, late[:1])
    assert answers[0]["recorded"] is False and answers[0]["code"] == "arrived_after_close"
    expect(card.locator(f"#vote-{vote['id']}-late")).to_have_text("截止后送达 1 张（未计入）")
    cast_yes(site, vote, late[1:])
    expect(card.locator(f"#vote-{vote['id']}-late")).to_have_text("截止后送达 2 张（未计入）")
    shot(page, "staff-late-ballots")


def test_at_1366x768_the_running_vote_comes_first_with_its_progress_in_view(site: Site, open_page: Any) -> None:
    story = site.story
    site.check_in_before_pages_open()
    with site.db.read() as session:
        ningbo = session.scalar(sa.select(Group.id).where(Group.congress_id == story.congress_id, Group.name == "宁波"))
    staff_http = site.staff()
    running = site.command(staff_http, "create_vote", agenda_item_id=story.agenda[1]["id"], title=TITLE,
                           questions=[QUESTION], hand_count_groups=[ningbo])
    site.command(staff_http, "open_vote", vote_id=running["id"])
    draft = site.command(staff_http, "create_vote", agenda_item_id=story.agenda[2]["id"], title="表决《厂务公开实施细则》",
                         questions=[{"kind": "yes_no", "text": "是否同意《厂务公开实施细则》"}])
    page = votes_view(open_page, site)

    cards = page.locator(".vote-card")
    expect(cards).to_have_count(2)
    expect(cards.nth(0)).to_have_id(f"vote-card-{running['id']}")  # the running vote first, the newer draft after
    expect(cards.nth(1)).to_have_id(f"vote-card-{draft['id']}")
    table = page.locator(f"#vote-{running['id']}-groups")
    expect(table).to_be_visible()
    box = table.bounding_box()
    assert box is not None
    assert box["y"] + box["height"] <= DESKTOP["height"], f"the progress ends at {box['y'] + box['height']} px"
    expect(page.locator("#vote-create")).to_be_hidden()  # behind 新建表决 while a vote runs
    assert accessibility_problems(page) == []
    shot(page, "staff-votes-running-1366x768")

    # A hand count entered by staff: after 报送 the figures stay, with who entered them (minor 9).
    card = cards.nth(0)
    card.get_by_text("为某代表团(组)录入现场计票").click()
    form = card.locator("form.handcount")
    form.get_by_label("本组实到人数").fill("5")
    form.get_by_label("赞成").fill("3")
    form.get_by_label("反对").fill("1")
    form.get_by_label("弃权").fill("1")
    form.get_by_label("本组监票人").fill("林晓")
    form.get_by_role("button", name="报送计票结果").click()
    summary = form.locator(".handcount-summary")
    expect(summary).to_contain_text("已报送：")
    expect(summary).to_contain_text("监票人 林晓")
    expect(summary).to_contain_text("宁波：本组实到 5 人，举手表决")
    expect(summary).to_contain_text("赞成 3，反对 1，弃权 1")
    expect(form.get_by_label("赞成")).to_have_value("3")  # kept for a correction
    expect(form.get_by_label("本组监票人")).to_have_value("林晓")
    form.get_by_label("赞成").fill("2")
    form.get_by_label("弃权").fill("2")
    form.get_by_role("button", name="报送计票结果").click()
    expect(summary).to_contain_text("赞成 2，反对 1，弃权 2")

    page.get_by_role("button", name="新建表决").click()
    expect(page.locator("#vote-create")).to_be_visible()
    expect(page.locator("#vote-item")).to_be_focused()
    create = page.locator("#vote-create")
    create.get_by_label("表决标题").fill("表决《职工代表提案处理办法》")
    create.get_by_label("事项内容").fill("是否同意《职工代表提案处理办法》")
    create.get_by_role("button", name="创建表决").click()
    expect(create.locator(".form-status")).to_have_text("已创建表决草稿。")
    expect(cards).to_have_count(3)
    expect(cards.nth(0)).to_have_id(f"vote-card-{running['id']}")  # still first: drafts come after the running vote
    expect(cards.nth(1)).to_contain_text("表决《职工代表提案处理办法》")
    page.set_viewport_size(PHONE)
    page.evaluate("window.scrollTo(0, 0)")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "the page scrolls sideways"
    shot(page, "staff-votes-running-360x740")
