"""Notices (issue 19), the pure part: which notices an event produces under a congress's rules, their
Chinese words, when a reminder no longer applies, the sender's back-off, and how an address is shown.

No I/O: congress.notices.outbox writes what these return, congress.application.notice_sender sends it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from congress.domain.errors import DomainError
from congress.domain.time import BEIJING

# Who hears what; staff change these per congress (set_notices). Delegates on a vote: off by default.
RULES: dict[str, tuple[bool, str]] = {
    "assigned": (True, "交办时通知承办部门"),
    "due_7": (True, "办理期限前 7 天提醒承办部门"),
    "due_1": (True, "办理期限前 1 天提醒承办部门"),
    "overdue": (True, "超过办理期限时通知承办部门"),
    "staff_overdue": (True, "超过办理期限时通知工会工作人员"),
    "reopened": (True, "提案人对答复不满意、重新办理时通知承办部门"),
    "proposer_decided": (True, "立案审查有结论时通知提案人"),
    "proposer_answered": (True, "承办部门答复后通知提案人"),
    "proposer_merged": (True, "提案被合并立案时通知提案人"),
    "vote_opened": (False, "表决开始时通知代表"),
}
CHANNEL_KINDS = {"email": "电子邮件", "wecom": "企业微信群机器人", "dingtalk": "钉钉群机器人", "feishu": "飞书群机器人"}
AUDIENCES = {"department": "承办部门", "staff": "工会工作人员", "delegates": "代表群"}
REMINDER_KINDS = frozenset({"due_7", "due_1", "overdue"})
MAX_ATTEMPTS = 5  # then the notice is marked failed and staff are told


def rules_of(stored: dict[str, object] | None) -> dict[str, bool]:
    """A congress's rules: the defaults where it set nothing."""
    stored = stored or {}
    return {key: bool(stored.get(key, default)) for key, (default, _words) in RULES.items()}


def check_rules(changes: dict[str, object]) -> dict[str, bool]:
    unknown = [key for key in changes if key not in RULES]
    if unknown:
        raise DomainError("bad_field", f"未知的通知规则：{'、'.join(unknown)}（可用：{'、'.join(RULES)}）",
                          params={"field": f"rules.{unknown[0]}"})
    wrong = [key for key, value in changes.items() if not isinstance(value, bool)]
    if wrong:
        raise DomainError("bad_field", f"通知规则 {'、'.join(wrong)} 应为 是/否（true/false）",
                          params={"field": f"rules.{wrong[0]}"})
    return {key: bool(value) for key, value in changes.items()}


@dataclass(frozen=True, slots=True)
class Planned:
    """One notice to one audience; the outbox makes a row per channel of that audience."""

    kind: str
    audience: str  # department | staff | proposer | delegates
    not_before: datetime
    subject: str
    body: str
    page: str  # the page the link opens: department | delegate | staff


def _when(at: datetime) -> str:
    return at.astimezone(BEIJING).strftime("%Y年%m月%d日 %H:%M")


def _case_name(number: int | None, title: str) -> str:
    return f"第 {number} 号提案《{title}》" if number else f"提案《{title}》"


def assignment_notices(rules: dict[str, bool], *, number: int | None, title: str, department: str,
                       due_at: datetime | None, now: datetime, lead: str | None = None,
                       reminders_only: bool = False) -> list[Planned]:
    """交办: the notice now, reminders 7 and 1 days before the due date (when still ahead), and the
    overdue notice at the due date to the department and to staff.

    `lead` names the lead department when `department` only helps (协办): its words say so, and
    staff hear of an overdue case once, through the lead's notice. `reminders_only`: no assignment
    notice (a carried case, whose department already knows it)."""
    case = _case_name(number, title)
    due_words = f"，办理期限为 {_when(due_at)}（北京时间）" if due_at else ""
    role = f"协办（主办部门：{lead}）" if lead else "主办"
    tag = "（协办）" if lead else ""
    planned = []
    if rules["assigned"] and not reminders_only:
        planned.append(Planned("assigned", "department", now, f"【提案交办】{case}{tag}",
                               f"{department}：{case}已交由贵部门{role}{due_words}。"
                               + ("请配合主办部门办理。" if lead else "请登录系统查看提案并答复。"), "department"))
    if due_at is None:
        return planned
    ask = "请配合主办部门按时答复提案人。" if lead else "请按时答复提案人。"
    for kind, days in (("due_7", 7), ("due_1", 1)):
        at = due_at - timedelta(days=days)
        if rules[kind] and at > now:
            planned.append(Planned(kind, "department", at, f"【办理提醒】{case}{tag}还有 {days} 天到期",
                                   f"{department}：贵部门{role}的{case}办理期限为 {_when(due_at)}（北京时间），"
                                   f"还有 {days} 天。{ask}", "department"))
    if rules["overdue"]:
        planned.append(Planned("overdue", "department", due_at, f"【已超期】{case}{tag}已超过办理期限",
                               f"{department}：贵部门{role}的{case}办理期限 {_when(due_at)}（北京时间）已过，尚未答复。"
                               + ("请配合主办部门尽快办理。" if lead else "请尽快答复并说明情况。"), "department"))
    if rules["staff_overdue"] and not lead:
        planned.append(Planned("staff_overdue", "staff", due_at, f"【已超期】{case}（{department}）",
                               f"{case}由{department}主办，办理期限 {_when(due_at)}（北京时间）已过，尚未答复。",
                               "staff"))
    return planned


def reopened_notice(rules: dict[str, bool], *, number: int | None, title: str, department: str,
                    round: int, now: datetime, lead: str | None = None) -> list[Planned]:
    """不满意: the case goes back to its department(s) for another round (办理第 N 轮)."""
    if not rules["reopened"]:
        return []
    case = _case_name(number, title)
    role = f"协办（主办部门：{lead}）" if lead else "主办"
    return [Planned("reopened", "department", now, f"【重新办理】{case}：提案人对答复不满意",
                    f"{department}：提案人对答复不满意，请再次办理。贵部门{role}的{case}已进入第 {round} 轮办理，"
                    "请登录系统查看提案人的意见并重新答复。", "department")]


DECISION_WORDS = {"立案": "已立案", "合并立案": "已合并立案", "转为意见建议": "已转为意见建议",
                  "不予立案": "不予立案", "转为议案": "已转为议案"}


def decision_notice(rules: dict[str, bool], *, number: int | None, title: str, decision: str,
                    reason: str | None, now: datetime) -> list[Planned]:
    kind = "proposer_merged" if decision == "合并立案" else "proposer_decided"
    if not rules[kind]:
        return []
    case = _case_name(number, title)
    why = f"理由：{reason}" if reason else ""
    return [Planned(kind, "proposer", now, f"【提案审查】{case}{DECISION_WORDS.get(decision, decision)}",
                    f"您提出的{case}经立案审查：{DECISION_WORDS.get(decision, decision)}。{why}", "delegate")]


def reply_notice(rules: dict[str, bool], *, number: int | None, title: str, reply_class: str,
                 now: datetime) -> list[Planned]:
    if not rules["proposer_answered"]:
        return []
    case = _case_name(number, title)
    return [Planned("proposer_answered", "proposer", now, f"【提案答复】{case}已答复",
                    f"您提出的{case}已由承办部门答复（{reply_class} 类）。请登录查看答复并进行满意度测评。", "delegate")]


def vote_notice(rules: dict[str, bool], *, title: str, now: datetime) -> list[Planned]:
    if not rules["vote_opened"]:
        return []
    return [Planned("vote_opened", "delegates", now, f"【表决开始】{title}",
                    f"表决“{title}”已开始，请登录系统投票。", "delegate")]


def still_applies(kind: str, *, status: str | None, queued_due: datetime | None,
                  current_due: datetime | None) -> bool:
    """A reminder is sent only while its case still waits for the answer, by the due date it was
    queued for: answered, closed or re-assigned with another date, it is cancelled instead."""
    if kind not in REMINDER_KINDS and kind != "staff_overdue":
        return True
    return status == "assigned" and queued_due is not None and current_due == queued_due


def backoff(attempts: int) -> timedelta:
    """The wait before attempt n+1: 30 s, 1, 2, 4 min, … at most an hour."""
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


def mask_address(kind: str, address: str) -> str:
    """What a page shows of a channel: an e-mail address as it is; a webhook's host and its last
    four characters only (the rest is the robot's key)."""
    if kind == "email":
        return address
    rest = address.split("://", 1)[-1]
    host = rest.split("/", 1)[0].split("?", 1)[0]
    return f"{host}/…{address[-4:]}" if len(address) > len(host) + 12 else f"{host}/…"


def check_address(kind: str, address: str, field: str = "add_channel.address") -> str:
    address = address.strip()
    if kind not in CHANNEL_KINDS:
        raise DomainError("bad_field", f"通知方式应为：{'、'.join(CHANNEL_KINDS)}",
                          params={"field": "add_channel.kind"})
    if kind == "email":
        if "@" not in address or " " in address or len(address) > 200:
            raise DomainError("bad_field", f"电子邮件地址不正确：{address}", params={"field": field})
    elif not address.startswith(("https://", "http://")) or len(address) > 1000:
        raise DomainError("bad_field", f"{CHANNEL_KINDS[kind]}的 Webhook 地址应以 https:// 开头",
                          params={"field": field})
    return address
