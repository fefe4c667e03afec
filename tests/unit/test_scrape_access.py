"""Who may read /metrics (congress.ops.scrape_access): this host directly, or the token's bearer."""

from __future__ import annotations

from starlette.datastructures import Headers

from congress.ops.scrape_access import scrape_refusal

TOKEN = "a-metrics-token-of-32-characters"


def refusal(peer: str | None, token: str | None = TOKEN, **headers: str) -> str | None:
    return scrape_refusal(peer, Headers({k.replace("_", "-"): v for k, v in headers.items()}), token)


def test_straight_from_this_host_needs_no_token() -> None:
    assert refusal("127.0.0.1") is None
    assert refusal("127.0.0.53") is None
    assert refusal("::1") is None
    assert refusal("127.0.0.1", token=None) is None


def test_through_a_proxy_or_from_elsewhere_without_the_token_is_refused_and_says_why() -> None:
    for header in ("X_Forwarded_For", "X_Real_IP", "Forwarded"):
        reason = refusal("127.0.0.1", **{header: "203.0.113.9"})
        assert reason is not None and "proxy" in reason
    assert "not from this host" in (refusal("10.0.0.7") or "")
    assert refusal(None) is not None
    assert refusal("not-an-address") is not None


def test_the_token_opens_it_from_anywhere_and_only_the_right_one() -> None:
    assert refusal("203.0.113.9", Authorization=f"Bearer {TOKEN}") is None
    assert refusal("127.0.0.1", X_Forwarded_For="203.0.113.9", Authorization=f"bearer {TOKEN}") is None
    assert refusal("203.0.113.9", Authorization="Bearer wrong") == "wrong metrics token"
    assert refusal("127.0.0.1", Authorization="Bearer wrong") == "wrong metrics token"  # a wrong token is never ignored
    assert "Bearer" in (refusal("203.0.113.9", Authorization=f"Basic {TOKEN}") or "")
    assert "Bearer" in (refusal("203.0.113.9", Authorization="Bearer ") or "")
    assert "CONGRESS_METRICS_TOKEN" in (refusal("203.0.113.9", token=None, Authorization=f"Bearer {TOKEN}") or "")
