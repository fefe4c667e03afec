"""The rehearsal's plan, generated and pure: the roster, who votes what, the proposals.

Deterministic for a seed, so a failed rehearsal can be run again the same way. The roster is a
CSV in the import format (``congress/data/roster.csv``); employee ids start with ``R`` so a
rehearsal's people can never be taken for real ones.
"""

from __future__ import annotations

import csv
import io
import json
import random
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

STORY_GROUPS = ["主会场", "长沙", "岳阳", "怀化", "益阳", "永州", "宁波"]
STORY_WEIGHTS = [60, 25, 85, 45, 30, 35, 15]  # the story's voting delegates per group
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
            "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国文辉玲红波志宏海燕鹏飞丹晨亮凯琳晓东雪梅新春林峰云慧斌"
UNITS = ("制浆车间", "造纸车间", "热电厂", "机修车间", "质检中心", "物流部", "销售公司", "财务部", "设备部", "安环部")
CANDIDATES = ["周海燕", "陈立新", "李卫东"]


@dataclass(frozen=True, slots=True)
class Person:
    index: int
    employee_id: str
    name: str
    group: str
    is_leader: bool
    is_voting: bool
    delegate_type: str
    gender: str
    role: str
    unit: str


@dataclass
class Plan:
    groups: list[str]
    people: list[Person]
    hand_counted: list[str]  # group names whose votes are counted on site by their leader
    seed: int

    def voting(self, group: str | None = None) -> list[Person]:
        return [p for p in self.people if p.is_voting and (group is None or p.group == group)]

    def leader(self, group: str) -> Person:
        return next(p for p in self.people if p.is_leader and p.group == group)


def _split(total: int, weights: list[int]) -> list[int]:
    """Largest-remainder split of `total` by `weights`, at least 3 per group (leader + 2 co-signers)."""
    floor = 3
    if total < floor * len(weights):
        raise ValueError(f"{total} 名正式代表不够分成 {len(weights)} 个代表团(组)（每组至少 {floor} 名）")
    spare = total - floor * len(weights)
    raw = [spare * w / sum(weights) for w in weights]
    counts = [int(r) for r in raw]
    by_remainder = sorted(range(len(weights)), key=lambda i: raw[i] - counts[i], reverse=True)
    for i in by_remainder[: spare - sum(counts)]:
        counts[i] += 1
    return [c + floor for c in counts]


def _names(count: int, rng: random.Random) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def make_plan(delegates: int, groups: int, hand_counted_groups: int = 0, non_voting: int | None = None,
              seed: int = 2020) -> Plan:
    """`delegates` voting delegates (正式代表) in `groups` groups, each with a leader, plus a few
    non-voting ones (列席/特邀, one in thirty by default, as in the story: 10 for 295)."""
    if groups < 1:
        raise ValueError("至少需要一个代表团(组)")
    if not 0 <= hand_counted_groups < groups:
        raise ValueError("现场计票的代表团(组)数应小于代表团(组)总数（至少一组网上投票）")
    rng = random.Random(seed)
    names_of_groups = (STORY_GROUPS + [f"第{i + 1}代表组" for i in range(len(STORY_GROUPS), groups)])[:groups]
    weights = (STORY_WEIGHTS + [40] * groups)[:groups]
    sizes = _split(delegates, weights)
    extra = max(1, round(delegates / 30)) if non_voting is None else non_voting
    all_names = _names(delegates + extra, rng)
    people: list[Person] = []

    def add(group: str, is_leader: bool, delegate_type: str) -> None:
        i = len(people)
        role = "管理人员" if is_leader or i % 7 == 3 else ("专业技术人员" if i % 3 == 1 else "一线职工")
        people.append(Person(i, f"R{i + 1:05d}", all_names[i], group, is_leader, delegate_type == "正式代表",
                             delegate_type, "女" if i % 10 in (1, 4, 7) else "男", role, UNITS[i % len(UNITS)]))

    for group, size in zip(names_of_groups, sizes, strict=True):
        for k in range(size):
            add(group, k == 0, "正式代表")
    for k in range(extra):
        add(names_of_groups[k % groups], False, "列席代表" if k % 2 == 0 else "特邀代表")
    # The smallest groups count on site, like a venue voting by show of hands
    by_size = sorted(range(groups), key=lambda i: (sizes[i], -i))
    hand = [names_of_groups[i] for i in sorted(by_size[:hand_counted_groups])]
    return Plan(names_of_groups, people, hand, seed)


def roster_csv(plan: Plan) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["employee_id", "name", "gender", "group", "unit", "role", "is_group_leader", "delegate_type"])
    for p in plan.people:
        writer.writerow([p.employee_id, p.name, p.gender, p.group, p.unit, p.role, int(p.is_leader), p.delegate_type])
    return buffer.getvalue().encode("utf-8")


# -- votes -------------------------------------------------------------------------------------
@dataclass
class VoteSpec:
    title: str
    agenda_kind: str
    questions: list[dict[str, Any]]
    is_secret: bool


def vote_specs(count: int) -> list[VoteSpec]:
    """`count` votes: yes/no motions (the first item by item, 分项表决), the last a secret election."""
    motions = [
        VoteSpec("表决《公司工作报告》《财务工作报告》", "审议通过",
                 [{"kind": "yes_no", "text": "是否同意《公司工作报告》"},
                  {"kind": "yes_no", "text": "是否同意《财务工作报告》"}], False),
        VoteSpec("表决《职工薪酬福利调整方案》", "审议通过",
                 [{"kind": "yes_no", "text": "是否同意《职工薪酬福利调整方案》"}], False),
        VoteSpec("表决《集体合同（草案）》", "审议通过", [{"kind": "yes_no", "text": "是否同意《集体合同（草案）》"}], False),
    ]
    election = VoteSpec("补选职工董事", "选举", [{"kind": "election", "text": "补选职工董事 1 名",
                                             "candidates": CANDIDATES, "seats": 1}], True)
    if count <= 0:
        return []
    specs = [motions[i % len(motions)] for i in range(count - 1)]
    specs = [VoteSpec(s.title if i < len(motions) else f"{s.title}（第 {i + 1} 项）", s.agenda_kind, s.questions,
                      s.is_secret) for i, s in enumerate(specs)]
    return [*specs, election]


def choose(question: dict[str, Any], rng: random.Random) -> Any:
    """One delegate's answer to one question (the vote's real question, with its options)."""
    keys = [o["key"] for o in question["options"]]
    if question["kind"] == "election":
        return [rng.choices(keys, weights=[6, 3, 1][: len(keys)] + [1] * max(0, len(keys) - 3))[0]]
    if question["kind"] == "yes_no":
        return rng.choices(["yes", "no", "abstain"], weights=[82, 11, 7])[0]
    return rng.choice(keys)


# -- proposals ---------------------------------------------------------------------------------
@dataclass
class ProposalSpec:
    key: str
    proposer: str  # employee id
    cosigners: list[str]
    title: str
    reason: str
    suggestion: str
    decision: str = "立案"
    extra: dict[str, Any] = field(default_factory=dict)


def proposal_specs(plan: Plan, count: int) -> list[ProposalSpec]:
    """`count` proposals with texts from the labelled set, each by a voting delegate with two
    co-signers of the same group; most are registered (立案), some forwarded as suggestions, a few rejected."""
    rng = random.Random(plan.seed + 1)
    texts = [json.loads(line) for line in
             resources.files("congress").joinpath("data/proposals.jsonl").read_text("utf-8").splitlines() if line]
    specs = []
    for i in range(count):
        text = texts[i % len(texts)]
        group = plan.groups[i % len(plan.groups)]
        members = plan.voting(group)
        proposer = members[rng.randrange(len(members))]
        others = [m for m in members if m.employee_id != proposer.employee_id]
        cosigners = rng.sample(others, 2)
        round_ = i // len(texts)
        title = text["title"] if round_ == 0 else f"{text['title']}（{round_ + 1}）"
        decision = "不予立案" if i % 25 == 24 else ("转为意见建议" if i % 10 == 9 else "立案")
        specs.append(ProposalSpec(f"p{i + 1}", proposer.employee_id, [c.employee_id for c in cosigners],
                                  title[:100], text["reason"], text["suggestion"], decision))
    return specs
