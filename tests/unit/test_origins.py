"""The origins that reach the Content-Security-Policy header: a stream address gives its origin or
nothing, and the embedding sites staff type are bare origins or refused — never anything that could
end a directive or add a source to the policy."""

from __future__ import annotations

import pytest

from congress.domain.errors import DomainError
from congress.domain.origins import MAX_EMBED_ORIGINS, origin_of, parse_embed_origins


@pytest.mark.parametrize(("url", "origin"), [
    ("https://live.example.cn/hall/live.m3u8", "https://live.example.cn"),
    ("HTTPS://Live.Example.CN:443/x.m3u8", "https://live.example.cn"),
    ("http://10.0.0.5:8080/live/stream.m3u8", "http://10.0.0.5:8080"),
    ("https://[::1]:8443/live.m3u8", "https://[::1]:8443"),
    ("/live/hall/live.m3u8", None),  # this server: 'self' covers it
    ("rtmp://10.0.0.5/live", None),
    ("https://a.example;script-src 'unsafe-inline'@b.example/", None),
    ("https://user:pw@live.example.cn/x", None),
    ("https://live.example.cn:99999/x", None),
    ("https://live example.cn/x", None),
    (None, None),
])
def test_a_stream_address_gives_its_origin_or_nothing(url, origin):
    assert origin_of(url) == origin


def test_embedding_sites_are_normalised_and_deduplicated():
    assert parse_embed_origins(["https://Portal.Example.cn/", " http://intranet.corp:8080 ", "",
                                "https://portal.example.cn:443"]) == \
        ("https://portal.example.cn", "http://intranet.corp:8080")
    assert parse_embed_origins([]) == ()


@pytest.mark.parametrize("typed", [
    "https://portal.example.cn/watch", "*", "https://*.example.cn", "'self'", "'none'",
    "https://portal.example.cn; script-src *", "https://portal.example.cn https://evil.example",
    "portal.example.cn", "https://portal.example.cn?x=1", "https://portal.example.cn#top",
    "https://u@portal.example.cn", "javascript:alert(1)", "data:", 42,
])
def test_anything_but_a_bare_origin_is_refused_with_words(typed):
    with pytest.raises(DomainError) as refused:
        parse_embed_origins([typed])
    assert refused.value.code == "bad_field" and "嵌入网站" in refused.value.message


def test_at_most_ten_sites():
    sites = [f"https://s{i}.example.cn" for i in range(MAX_EMBED_ORIGINS + 1)]
    assert len(parse_embed_origins(sites[:-1])) == MAX_EMBED_ORIGINS
    with pytest.raises(DomainError, match="最多"):
        parse_embed_origins(sites)
