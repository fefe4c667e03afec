"""The sign-in throttling rule (congress.domain.sign_in) as pure functions: waits that grow and stop
at their caps, a venue's NAT that never waits, guessing spread over many addresses that is slowed
but never locks the real person out, and the address a failure counts against (issue 18, point 6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from congress.domain.sign_in import (
    POLICY,
    AddressFailures,
    Failures,
    address_delay,
    address_of,
    pair_delay,
    retry_after,
    wait_before_next,
)

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def test_a_pairs_wait_is_free_at_first_then_doubles_up_to_five_minutes():
    delays = [pair_delay(POLICY, n, n) for n in range(1, 20)]

    assert delays[:3] == [0, 0, 0]  # three typos cost nothing
    assert delays[3:12] == [1, 2, 4, 8, 16, 32, 64, 128, 256]
    assert delays[12:] == [300] * 7  # capped: a few minutes, never a lock-out
    assert all(a <= b for a, b in zip(delays, delays[1:], strict=False))


def test_the_wait_is_counted_from_the_pairs_last_failure_and_then_is_over():
    pair = Failures(count=6, last=NOW)  # six wrong codes: a wait of 4 s

    assert wait_before_next(POLICY, pair, 6, AddressFailures(), NOW) == 4
    assert wait_before_next(POLICY, pair, 6, AddressFailures(), NOW + timedelta(seconds=3)) == 1
    assert wait_before_next(POLICY, pair, 6, AddressFailures(), NOW + timedelta(seconds=4)) == 0
    assert retry_after(0.2) == 1 and retry_after(3.01) == 4


def test_guessing_from_many_addresses_slows_each_failing_address_but_never_locks_out_a_new_one():
    """10,000 failures on one account from everywhere: an address that has not failed waits for
    nothing; one that failed once (the real person's typo) waits at most the account guard's 30 s."""
    attacked = 10_000

    assert pair_delay(POLICY, 0, attacked) == 0
    assert pair_delay(POLICY, 1, attacked) == POLICY.account_cap == 30
    assert [pair_delay(POLICY, 1, POLICY.account_free + k) for k in range(0, 8)] == [0, 1, 2, 4, 8, 16, 30, 30]
    # Counted from that address's own failure: guessing elsewhere cannot make it last longer.
    assert wait_before_next(POLICY, Failures(1, NOW), attacked, AddressFailures(), NOW + timedelta(seconds=30)) == 0


def test_a_venue_of_300_behind_one_address_where_20_mistype_never_makes_anyone_wait_for_the_address():
    # 20 mistype 3 to 6 times each, 5 of them also mistype their 工号 once: 25 accounts, 95 failures
    per_person = [3, 4, 5, 6] * 5
    failures, accounts = sum(per_person) + 5, len(per_person) + 5

    assert address_delay(POLICY, failures, accounts) == 0
    # Even twice that many people mistyping (50 accounts, 200 failures) wait seconds, not minutes
    assert address_delay(POLICY, 200, 50) <= 16
    # and the longest anyone of them waits for their own typos is 4 s (the sixth wrong code)
    assert max(pair_delay(POLICY, n, n) for n in per_person) == 4


def test_an_address_spraying_guesses_over_many_accounts_waits_more_and_more_up_to_a_minute():
    sprayed = [address_delay(POLICY, n, n) for n in range(1, 200)]  # one guess per account

    assert sprayed[:59] == [0] * 59  # 60 guesses over 60 accounts before the address waits
    assert sprayed[59] == 1
    assert max(sprayed) == POLICY.address_cap == 60
    assert all(a <= b for a, b in zip(sprayed, sprayed[1:], strict=False))
    # Many failures on a few accounts is not spraying: each pair has its own wait for that
    assert address_delay(POLICY, 500, 5) == 0


def test_the_address_a_failure_counts_against():
    assert address_of("203.0.113.7") == "203.0.113.7"
    assert address_of("::ffff:203.0.113.7") == "203.0.113.7"
    # A phone or household holds a whole IPv6 /64: counted as one address
    assert address_of("2001:db8:1:2:aaaa::1") == address_of("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert address_of("2001:db8:1:2::/64") == "2001:db8:1:2::/64"  # as the staff page shows it
    assert address_of(None) == "-"
    assert "|" not in address_of("evil|delegate:1:A001")  # the key's separator never comes from outside
