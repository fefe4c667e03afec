"""The observers' rule (congress.domain.watching.may_watch) and the wrong-token throttle
(congress.application.watching.FailureThrottle), without a server: a table and a clock moved by hand."""

from __future__ import annotations

import pytest

from congress.application.watching import FailureThrottle
from congress.db.secrets import new_watch_token, watch_token_digest
from congress.domain.errors import DomainError
from congress.domain.watching import WatchMode, WatchRefusal, check_chosen_watch_token, may_watch


@pytest.mark.parametrize(("mode", "token_ok", "link_issued", "expected"), [
    (WatchMode.OPEN, False, False, None),
    (WatchMode.OPEN, True, True, None),
    (WatchMode.OFF, True, True, WatchRefusal.WATCHING_OFF),
    (WatchMode.OFF, False, True, WatchRefusal.WATCHING_OFF),
    (WatchMode.TOKEN, True, True, None),
    (WatchMode.TOKEN, False, True, WatchRefusal.WATCH_TOKEN_REQUIRED),
    (WatchMode.TOKEN, True, False, WatchRefusal.WATCH_LINK_NOT_ISSUED),
])
def test_who_may_watch(mode: WatchMode, token_ok: bool, link_issued: bool, expected: WatchRefusal | None) -> None:
    assert may_watch(mode, token_ok=token_ok, link_issued=link_issued) is expected


def test_generated_tokens_are_long_url_safe_and_distinct() -> None:
    tokens = {new_watch_token() for _ in range(200)}
    assert len(tokens) == 200
    assert all(len(t) >= 16 and t.replace("-", "").replace("_", "").isalnum() and t.isascii() for t in tokens)


def test_a_chosen_token_shorter_than_16_characters_is_refused() -> None:
    with pytest.raises(DomainError) as refused:
        check_chosen_watch_token("观看口令-2027")
    assert refused.value.code == "bad_field" and "16" in refused.value.message
    assert check_chosen_watch_token("  0123456789abcdef ") == "0123456789abcdef"
    with pytest.raises(DomainError) as refused:
        check_chosen_watch_token("第十届职代会第三次会议观看口令-2027")  # long enough, but it goes in a link
    assert refused.value.code == "bad_field" and "英文字母" in refused.value.message


def test_the_digest_depends_on_the_instance_secret() -> None:
    assert watch_token_digest("k1", "token").startswith("hmac-sha256:")
    assert watch_token_digest("k1", "token") != watch_token_digest("k2", "token")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_twenty_failures_in_a_minute_block_the_address_for_a_growing_time() -> None:
    clock = Clock()
    throttle = FailureThrottle(limit=20, window=60, first_block=60, longest_block=3600, clock=clock)
    for _ in range(19):
        throttle.failed("10.0.0.1")
        clock.now += 1
    assert throttle.blocked_for("10.0.0.1") == 0
    throttle.failed("10.0.0.1")
    assert throttle.blocked_for("10.0.0.1") == 60
    assert throttle.blocked_for("10.0.0.2") == 0  # per address

    clock.now += 61
    for _ in range(20):
        throttle.failed("10.0.0.1")
    assert throttle.blocked_for("10.0.0.1") == 120  # twice as long the second time

    clock.now += 3600 * 3  # a quiet time forgives
    for _ in range(20):
        throttle.failed("10.0.0.1")
    assert throttle.blocked_for("10.0.0.1") == 60


def test_failures_spread_over_more_than_the_window_do_not_block() -> None:
    clock = Clock()
    throttle = FailureThrottle(limit=20, window=60, clock=clock)
    for _ in range(100):
        throttle.failed("10.0.0.1")
        clock.now += 4  # 15 a minute
    assert throttle.blocked_for("10.0.0.1") == 0
