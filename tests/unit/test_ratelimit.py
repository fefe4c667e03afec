"""The rate budget's arithmetic on a hand-driven clock: who shares a bucket, staff's higher rate,
observers by address, `ping` free, idle buckets forgotten."""

from __future__ import annotations

from congress.application.ratelimit import UPLOAD_COST, RateBudget, RateLimited, SocketAllowance
from congress.domain.kinds import Role
from congress.domain.permissions import Actor


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


DELEGATE = Actor(role=Role.DELEGATE, name="甲", delegate_id=7)
STAFF = Actor(role=Role.STAFF, name="会务", account_id=1)
OBSERVER = Actor(role=Role.OBSERVER, name="观众")


def test_one_bucket_per_person_whatever_the_way_in() -> None:
    clock = Clock()
    budget = RateBudget(20, clock=clock)
    assert all(budget.spend(DELEGATE, f"10.0.0.{n % 3}") == 0 for n in range(40))  # two seconds' worth
    wait = budget.spend(DELEGATE, "10.0.0.9")
    assert wait == 1 / 20  # one token refills in 1/20 s
    clock.now += wait
    assert budget.spend(DELEGATE, None) == 0
    # Another delegate, and the same delegate's number as an account, are other people.
    assert budget.spend(Actor(role=Role.DELEGATE, name="乙", delegate_id=8), None) == 0
    assert budget.spend(Actor(role=Role.DEPARTMENT, name="部门", account_id=7), None) == 0


def test_staff_go_ten_times_faster_and_uploads_cost_ten() -> None:
    budget = RateBudget(20, clock=Clock())
    assert sum(budget.spend(STAFF, None) == 0 for _ in range(500)) == 400
    budget = RateBudget(20, clock=Clock())
    assert sum(budget.spend(DELEGATE, None, UPLOAD_COST) == 0 for _ in range(10)) == 4


def test_observers_share_a_budget_per_address() -> None:
    budget = RateBudget(20, clock=Clock())
    assert sum(budget.spend(OBSERVER, "10.1.1.1") == 0 for _ in range(500)) == 400
    assert budget.spend(OBSERVER, "10.1.1.2") == 0


def test_the_refusal_says_when_to_come_back_in_whole_seconds_for_http() -> None:
    budget = RateBudget(0.5, clock=Clock())
    assert budget.spend(DELEGATE, None) == 0
    limited = RateLimited(budget.spend(DELEGATE, None))
    assert limited.code == "rate_limited" and limited.retry_after == 2.0
    assert limited.retry_after_header == "2" and "2 秒" in limited.message
    assert RateLimited(0.0).retry_after_header == "1"  # never "now" in the header


def test_a_socket_spends_the_persons_budget_but_ping_is_free() -> None:
    clock = Clock()
    budget = RateBudget(20, clock=clock)
    first, second = SocketAllowance(budget, DELEGATE, None), SocketAllowance(budget, DELEGATE, None)
    assert sum(first.take("check_in") for _ in range(30)) == 30
    assert sum(second.take("cast_ballot") for _ in range(30)) == 10  # the same 40
    assert second.retry_after > 0
    assert first.take("ping")  # a heartbeat is not a command
    # ... but a socket's frames are still guarded: a flood of pings is refused too.
    assert sum(first.take("ping") for _ in range(100)) < 100


def test_idle_buckets_are_forgotten() -> None:
    clock = Clock()
    budget = RateBudget(20, clock=clock)
    for n in range(100):
        budget.spend(Actor(role=Role.DELEGATE, name="x", delegate_id=n), None)
    assert len(budget) == 100
    clock.now += 60
    budget.spend(DELEGATE, None)
    assert len(budget) == 1


def test_a_known_cookie_over_budget_is_refused_before_any_read() -> None:
    clock = Clock()
    budget = RateBudget(20, clock=clock)
    assert budget.wait_before_reading("cookie-a") == 0  # unknown: let through to be looked up
    budget.remember("cookie-a", DELEGATE)
    budget.remember("cookie-o", OBSERVER)  # observers have no sign-in to remember
    while budget.spend(DELEGATE, None) == 0:
        pass
    assert budget.wait_before_reading("cookie-a") > 0 and budget.wait_before_reading("cookie-o") == 0
    before = budget.wait_before_reading("cookie-a")
    assert budget.wait_before_reading("cookie-a") <= before  # asking takes nothing
    clock.now += before
    assert budget.wait_before_reading("cookie-a") == 0


def test_an_http_request_up_to_a_second_ahead_waits_its_turn_beyond_that_it_is_refused() -> None:
    clock = Clock()
    budget = RateBudget(20, clock=clock)
    assert [budget.reserve(DELEGATE, None) for _ in range(40)] == [(0.0, 0.0)] * 40  # the full bucket
    turns = [budget.reserve(DELEGATE, None)[0] for _ in range(20)]  # one more second's worth: queued
    assert turns == sorted(turns) and abs(turns[0] - 0.05) < 1e-9 and abs(turns[-1] - 1.0) < 1e-9
    delay, wait = budget.reserve(DELEGATE, None)
    assert delay == 0 and abs(wait - 1.05) < 1e-9  # refused: served at once only in 1.05 s
    assert budget.spend(DELEGATE, None) > 1  # the websocket sees the queued requests too
    clock.now += 1.05
    assert budget.reserve(DELEGATE, None) == (0.0, 0.0)
