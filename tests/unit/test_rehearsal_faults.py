"""The pure parts of `congress rehearse --fault` (congress/rehearsal/faults.py): what a fault needs,
which process a worker fault signals, and how the report's faults entry is summed up."""

from __future__ import annotations

import pytest

from congress.rehearsal.faults import (
    FaultPlan,
    FaultRefused,
    FaultRun,
    parse_fault,
    pick_worker,
    refusal,
    summarise,
)


def test_fault_names_and_modes():
    assert parse_fault("worker") == ("worker", "term")
    assert parse_fault("worker:kill") == ("worker", "kill")
    assert parse_fault("Redis") == ("redis", "pause")
    assert parse_fault("database") == ("database", "terminate")
    with pytest.raises(FaultRefused, match="redis takes pause or kill"):
        parse_fault("redis:stop")


@pytest.mark.parametrize(("plan", "named"), [
    (FaultPlan("redis", "pause"), "--redis-url"),
    (FaultPlan("database", "terminate"), "--database-url"),
    (FaultPlan("database", "terminate", database_url="sqlite:///c.db"), "SQLite"),
    (FaultPlan("redis", "pause", fault_command="systemctl stop redis"), "--recover-command"),
    (FaultPlan("worker", "term", fault_command="a", recover_command="b"), "--restart-command"),
    (FaultPlan("worker", "term", duration=0), "--fault-for"),
])
def test_a_fault_without_what_it_needs_is_named(plan: FaultPlan, named: str):
    assert named in (refusal(plan) or "")


def test_what_a_fault_needs_given():
    assert refusal(FaultPlan("redis", "kill", redis_url="redis://h:6379/0")) is None
    assert refusal(FaultPlan("database", "terminate", fault_command="a", recover_command="b")) is None
    assert refusal(FaultPlan("worker", "kill")) is None


def test_the_worker_signalled_is_a_child_of_a_supervisor_that_listens_too():
    assert pick_worker([100, 101, 102], {100: 1, 101: 100, 102: 100}) == 102  # uvicorn --workers 2
    assert pick_worker([200], {200: 1}) == 200  # one process
    assert pick_worker([], {}) is None


def run_of(started: float, ended: float) -> FaultRun:
    run = FaultRun(FaultPlan("redis", "pause", at=2, duration=ended - started), opened_at=started - 2)
    run.started_at, run.ended_at = started, ended
    return run


def test_summary_counts_acknowledgements_in_flight_while_it_lasted_and_the_recovery():
    acks = [{"sent": 99.0, "acked": 99.5},  # before
            {"sent": 101.0, "acked": 106.0},  # waited through it
            {"sent": 104.0, "acked": 105.2},  # sent during, answered after
            {"sent": 110.0, "acked": 110.1}]  # after it was over
    entry = summarise(run_of(100.0, 105.0), acks, [[100.5, 107.0]], 0, {"acked": 105.4}, retried=3, moved=1)
    assert entry["problems"] == []
    assert entry["injected_seconds_into_vote"] == 2.0 and entry["lasted_seconds"] == 5.0
    assert entry["recovery"] == {"commands_seconds": 0.4, "clients_seconds": 2.0, "clients_lost_connection": 1,
                                 "clients_still_away": 0}
    assert entry["acks_delayed"] == {"count": 2, "slowest_ms": 5000, "of": 4}
    assert entry["commands_resent_after_unavailable"] == 3 and entry["reconnections_to_another_url"] == 1


def test_summary_names_what_did_not_recover():
    entry = summarise(run_of(100.0, 105.0), [], [], 2, None, 0, 0)
    assert any("never came back" in p for p in entry["problems"])
    assert any("did not succeed again" in p for p in entry["problems"])
    never = FaultRun(FaultPlan("worker", "term"))
    assert summarise(never, [], [], 0, None, 0, 0)["problems"] == ["the fault was never injected"]
