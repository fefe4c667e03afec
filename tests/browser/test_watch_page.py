"""Observers (云听会) and the venue screen: a vote's progress shows as counts, and its result shows
only once staff have published it — not when the vote closes. Staff run the vote from their page,
including a group's hand count."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from congress.db.models import Group
from tests.browser.conftest import LAPTOP, PROJECTOR, accessibility_problems, shot, sign_in_staff

pytestmark = pytest.mark.browser


def test_observer_sees_a_result_only_after_staff_publish_it(site, open_page):
    story = site.story
    checked_in = set(site.check_in_before_pages_open())
    with site.db.read() as session:
        groups = {g.name: g.id for g in session.scalars(sa.select(Group).where(Group.congress_id == story.congress_id))}
    ningbo = groups["宁波"]
    ningbo_present = sum(1 for d in story.voting(ningbo) if d.employee_id in checked_in)
    staff_http = site.staff()
    site.command(staff_http, "set_current_item", item_id=story.agenda[1]["id"])
    vote = site.command(staff_http, "create_vote", agenda_item_id=story.agenda[1]["id"], title="表决《职工薪酬福利调整方案》",
                        questions=[{"kind": "yes_no", "text": "是否同意《职工薪酬福利调整方案》"}],
                        hand_count_groups=[ningbo])

    watch = open_page(f"/watch?congress={story.congress_id}", LAPTOP)
    expect(watch.locator(".current-item")).to_contain_text("表决《职工薪酬福利调整方案》")
    expect(watch.locator("#no-results")).to_be_visible()

    staff = sign_in_staff(open_page, site)
    staff.get_by_role("link", name="表决").click()
    card = staff.locator(f"#vote-card-{vote['id']}")
    card.get_by_role("button", name="开始表决").click()
    staff.get_by_role("dialog").get_by_role("button", name="确认开始表决").click()  # staff are asked first
    expect(card).to_contain_text("进行中")

    expect(watch.locator(".vote-progress")).to_contain_text("表决进行中")
    voters = [d for d in story.voting() if d.employee_id in checked_in and d.group_id != ningbo][:10]
    question_id = str(vote["questions"][0]["id"])
    for index, delegate in enumerate(voters):
        site.command(site.delegate(delegate.employee_id), "cast_ballot", vote_id=vote["id"],
                     answers={question_id: "yes" if index < 8 else "no"})
    expect(watch.locator(".vote-progress")).to_contain_text("已投 10")
    expect(card.locator(f"#vote-{vote['id']}-groups")).to_contain_text("未报送")

    # 宁波 voted on site: staff enter its show-of-hands count.
    card.get_by_text("为某代表团(组)录入现场计票").click()
    form = card.locator("form.handcount")
    form.get_by_label("本组实到人数").fill(str(ningbo_present))
    form.get_by_label("赞成").fill(str(ningbo_present - 1))
    form.get_by_label("反对").fill("1")
    form.get_by_label("弃权").fill("0")
    form.get_by_label("本组监票人").fill("林晓")
    form.get_by_role("button", name="报送计票结果").click()
    expect(form.locator(".form-status")).to_contain_text("计票结果已报送")
    expect(card.locator(f"#vote-{vote['id']}-groups")).to_contain_text("已报送")
    shot(staff, "staff-vote-open", docs="staff.png", full_page=True)

    card.get_by_role("button", name="截止并计票").click()
    staff.get_by_role("dialog").get_by_role("button", name="确认截止并计票").click()
    expect(card.locator(".stored-result")).to_contain_text("尚未公布")
    expect(watch.locator(".vote-progress")).to_have_count(0)  # the close reached the observer…
    watch.wait_for_timeout(500)
    expect(watch.locator(".result-card")).to_have_count(0)  # …but no result until it is published
    expect(watch.locator("#no-results")).to_be_visible()
    shot(watch, "watch-closed-not-published")

    card.get_by_label("总监票人姓名").fill("刘志强")
    card.get_by_role("button", name="总监票人确认").click()
    expect(card).to_contain_text("已确认（总监票人 刘志强）")
    watch.wait_for_timeout(300)
    expect(watch.locator(".result-card")).to_have_count(0)
    card.get_by_role("button", name="公布结果").click()
    staff.get_by_role("dialog").get_by_role("button", name="确认公布结果").click()

    result = watch.locator(".result-card")
    expect(result).to_contain_text("表决《职工薪酬福利调整方案》")
    expect(result.locator(".outcome")).to_contain_text("未通过")
    expect(result.locator(".chart-row")).to_have_count(1 + len(groups))  # the total and every group
    expect(result).to_contain_text("宁波（举手表决）")
    expect(watch.locator("#watching")).to_contain_text("人正在观看")
    assert accessibility_problems(watch) == []
    shot(watch, "watch-published", docs="watch.png", full_page=True)
    expect(card.locator(".stored-result")).to_contain_text("已公布")
    staff.evaluate("window.scrollTo(0, 0)")
    assert accessibility_problems(staff) == []
    shot(staff, "staff-votes-published")

    screen = open_page(f"/screen?congress={story.congress_id}", PROJECTOR)
    expect(screen.locator("#screen-item")).to_have_text("表决《职工薪酬福利调整方案》")
    expect(screen.locator(".screen-result")).to_contain_text("未通过")
    expect(screen.locator("#screen-present")).to_have_text(str(len(checked_in)))
    assert screen.evaluate("document.documentElement.scrollWidth") <= PROJECTOR["width"]
    assert accessibility_problems(screen) == []
    shot(screen, "screen-published", docs="screen.png")


@pytest.mark.parametrize("player", ["native", "hls.js"])
def test_watch_page_plays_the_stream_from_this_server_only(site, open_page, player):
    staff = site.staff()
    site.command(staff, "set_stream", kind="hls", url="/static/no-such-stream/live.m3u8", delay_seconds=5)
    # Chromium plays HLS itself; a browser that cannot gets the vendored hls.js (never a CDN).
    no_native_hls = "HTMLMediaElement.prototype.canPlayType = function () { return ''; };"
    # Native only where the browser gives the stream's start date (Safari): stand in for it in Chromium
    with_start_date = "HTMLMediaElement.prototype.getStartDate = function () { return new Date(NaN); };"
    watch = open_page(f"/watch?congress={site.story.congress_id}",
                      init_script=no_native_hls if player == "hls.js" else with_start_date)
    video = watch.locator("#stream video")
    expect(video).to_be_visible()
    expect(video).to_have_attribute("aria-label", "会议直播")
    # Until its own picture plays the page does not show a state the video has not reached (sync.js)
    expect(watch.locator("#sync-line")).to_have_text("正在与直播画面同步…")
    expect(watch.locator("#current .syncing")).to_have_text("正在与直播画面同步…")
    if player == "hls.js":
        watch.wait_for_function("() => typeof window.Hls === 'function'")
        expect(watch.locator("script[src='/static/vendor/hls-1.7.4.min.js']")).to_have_count(1)
    else:
        assert video.evaluate("v => v.src").endswith("/static/no-such-stream/live.m3u8")
    # The file does not exist (yet): the page says it is waiting for the broadcast and tries again.
    expect(watch.get_by_text("直播尚未开始，正在重试…")).to_be_visible(timeout=20_000)
    expect(watch.get_by_role("button", name="立即重试")).to_be_visible()
    # No picture for 15 s: the page falls back to the server's hold, and says so in one line
    expect(watch.locator("#sync-line")).to_have_text("直播画面未在播放：议程、出席和结果按 5 秒延迟显示。", timeout=20_000)
    expect(watch.locator("#current .syncing")).to_have_count(0)
    shot(watch, f"watch-stream-{player}")


def test_observer_sees_who_has_the_floor_until_the_speech_ends(site, open_page):
    story = site.story
    checked_in = site.check_in_before_pages_open()
    speaker = next(d for d in story.voting() if d.employee_id in checked_in)
    staff = site.staff()
    site.command(staff, "set_current_item", item_id=story.agenda[0]["id"])
    watch = open_page(f"/watch?congress={story.congress_id}", LAPTOP)
    expect(watch.locator(".current-item")).to_be_visible()
    expect(watch.locator(".floor-card")).to_have_count(0)  # nobody has the floor: nothing said

    request = site.command(site.delegate(speaker.employee_id), "request_to_speak", topic="食堂夜班供餐")
    site.command(staff, "give_floor", request_id=request["id"], seconds_allowed=180)
    floor = watch.locator(".floor-card")
    expect(floor).to_contain_text("正在发言")
    expect(floor).to_contain_text(speaker.name)
    expect(floor).to_contain_text("食堂夜班供餐")
    expect(floor.get_by_role("timer")).to_be_visible()  # the time allowed counts down

    site.command(staff, "end_speech")
    expect(watch.locator(".floor-card")).to_have_count(0)


@pytest.mark.parametrize("mode", ["open", "token"])
def test_observer_reads_the_public_report_and_never_an_internal_one(site, open_page, mode):
    story = site.story
    staff = site.staff()
    item = story.agenda[0]
    site.command(staff, "set_current_item", item_id=item["id"])
    link = ""
    if mode == "token":  # watching by link: the report is read with the link's token too
        link = "&watch=" + site.command(staff, "set_watch", mode="token")["token"]
    watch = open_page(f"/watch?congress={story.congress_id}{link}", LAPTOP)
    expect(watch.locator(".current-item")).to_be_visible()
    expect(watch.locator("#slot-documents")).to_be_hidden()  # no document yet: nothing said

    for title, is_public in (("公司工作报告", "true"), ("内部财务报告", "")):
        uploaded = staff.post(f"/api/congresses/{story.congress_id}/documents",
                              data={"title": title, "agenda_item_id": str(item["id"]), "is_public": is_public},
                              files={"file": (f"{title}.md", f"# {title}\n\n各位代表：今年的工作……".encode(), "text/markdown")})
        assert uploaded.status_code == 200, uploaded.text
    docs = watch.locator("#slot-documents")
    expect(docs).to_contain_text("公司工作报告")
    docs.get_by_role("button", name="阅读").first.click()
    frame = watch.frame_locator("#doc-reader iframe")
    expect(frame.locator("h1")).to_have_text("公司工作报告")
    expect(frame.locator("body")).to_contain_text("各位代表")
    assert "内部财务报告" not in docs.inner_text()  # delegates' only: never sent to observers
