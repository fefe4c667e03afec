"""The response headers, through a real server on both databases (issue 18, point 9): every page,
API response, attachment and document carries them, from one middleware.

- Pages: the Content-Security-Policy as a header (scripts and styles from this server only, the
  stream's host by its origin — never any `http:`/`https:`), `frame-ancestors 'none'` — the staff
  console can be framed by no site — except /watch and /screen, which name the sites staff allowed
  for that congress with `set_embedding`.
- Attachments, rendered documents and printouts: a sandbox policy that runs and loads nothing from
  elsewhere; a rendered document has no remote image (a tracking pixel) at all.
- All: nosniff, Referrer-Policy, Permissions-Policy, Cross-Origin-Opener-Policy; HSTS only when the
  site is served over HTTPS (CONGRESS_HTTPS=1).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from congress.routes.pages import PAGES
from congress.settings import Settings
from tests.story import LiveServer, Story, build_story, sign_in

MARKDOWN = "# 公司工作报告\n\n今年安全生产形势平稳。\n\n![x](https://tracker.example/p.png)\n".encode()
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


def assert_common(response: httpx.Response, *, https: bool = False) -> None:
    where = f"{response.request.method} {response.request.url.path}"
    headers = response.headers
    assert headers.get("x-content-type-options") == "nosniff", where
    assert headers.get("referrer-policy") == "strict-origin-when-cross-origin", where
    permissions = headers.get("permissions-policy", "")
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert feature in permissions, (where, permissions)
    assert headers.get("cross-origin-opener-policy") == "same-origin", where
    if https:
        assert headers.get("strict-transport-security") == "max-age=31536000; includeSubDomains", where
    else:
        assert "strict-transport-security" not in headers, where


def assert_page(response: httpx.Response, *, ancestors: list[str] | None = None) -> dict[str, list[str]]:
    where = response.request.url.path
    assert response.status_code in (200, 307), where
    policy = directives(response.headers["content-security-policy"])
    assert policy["default-src"] == ["'self'"] and policy["script-src"] == ["'self'"], where
    assert policy["style-src"] == ["'self'"] and policy["object-src"] == ["'none'"], where
    assert policy["base-uri"] == ["'none'"] and policy["form-action"] == ["'self'"], where
    for name, sources in policy.items():  # no scheme-wide source: only 'self', blob:/data: and origins
        assert not {"http:", "https:", "*", "'unsafe-inline'", "'unsafe-eval'"} & set(sources), (where, name)
    assert policy["frame-ancestors"] == (ancestors or ["'none'"]), where
    if ancestors:
        assert "x-frame-options" not in response.headers, where
    else:
        assert response.headers["x-frame-options"] == "DENY", where
    assert_common(response)
    return policy


def assert_api(response: httpx.Response) -> None:
    where = f"{response.request.method} {response.request.url.path}"
    policy = directives(response.headers["content-security-policy"])
    assert policy["default-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"], where
    assert response.headers["x-frame-options"] == "DENY", where
    assert_common(response)


def assert_sandboxed(response: httpx.Response, *, disposition: bool = True) -> None:
    where = f"{response.request.url.path}?{response.request.url.query.decode()}"
    assert response.status_code == 200, (where, response.text[:200])
    policy = directives(response.headers["content-security-policy"])
    assert "sandbox" in policy and policy["sandbox"] == [], where  # no allow-scripts, no allow-same-origin
    assert policy["default-src"] == ["'none'"] and policy["img-src"] == ["'self'", "data:"], where
    assert policy["frame-ancestors"] == ["'self'"], where  # the pages show documents in a frame
    assert response.headers["x-frame-options"] == "SAMEORIGIN", where
    if disposition:  # as before: a file is named (inline or as a download); the printout is a page
        assert response.headers["content-disposition"].startswith(("inline;", "attachment;")), where
    assert_common(response)


class Running:
    def __init__(self, story: Story, server: LiveServer) -> None:
        self.story, self.server = story, server
        cookie, csrf = sign_in(server.url, {"login": "staff", "password": story.staff_password})
        self.staff = httpx.Client(base_url=server.url, timeout=30,
                                  cookies={"congress_session": cookie}, headers={"X-CSRF-Token": csrf})
        self.anyone = httpx.Client(base_url=server.url, timeout=30)

    def command(self, op: str, **args: Any) -> httpx.Response:
        return self.staff.post(f"/api/congresses/{self.story.congress_id}/commands/{op}", json=args)

    def page_policy(self, path: str, until: Any = None) -> dict[str, list[str]]:
        """The policy of a page; with `until`, asked again (for up to 5 s) until it holds: the
        middleware learns of a changed setting through the event, delivered just after the reply."""
        deadline = time.monotonic() + 5
        while True:
            policy = directives(self.anyone.get(path).headers["content-security-policy"])
            if until is None or until(policy) or time.monotonic() > deadline:
                return policy
            time.sleep(0.05)

    def close(self) -> None:
        self.staff.close()
        self.anyone.close()


@pytest.fixture
def running(db, database_url) -> Iterator[Running]:  # type: ignore[no-untyped-def]
    story = build_story(db)
    server = LiveServer(Settings(database_url=database_url, port=0)).start()
    run = Running(story, server)
    try:
        yield run
    finally:
        run.close()
        server.stop()


def test_every_page_api_response_attachment_and_document_carries_the_headers(running):
    story, cid = running.story, running.story.congress_id
    anyone, staff = running.anyone, running.staff

    # Every page route, the staff console among them: framed by no site
    assert set(PAGES) >= {"sign-in", "delegate", "staff", "department", "trustee", "watch", "screen"}
    assert_page(anyone.get("/", follow_redirects=False))
    for name in PAGES:
        assert_page(anyone.get(f"/{name}"))
        assert_page(staff.get(f"/{name}"))
    assert_page(anyone.get(f"/watch?congress={cid}"))
    assert_page(anyone.get(f"/screen?congress={cid}"))

    # The API, static files and errors
    delegate = story.voting()[0]
    cookie, csrf = sign_in(running.server.url, {"employee_id": delegate.employee_id,
                                                "code": story.codes[delegate.employee_id], "congress_id": cid})
    as_delegate = httpx.Client(base_url=running.server.url, timeout=30,
                               cookies={"congress_session": cookie}, headers={"X-CSRF-Token": csrf})
    for response in (anyone.get("/api/congresses"), anyone.get("/api/me"), staff.get("/api/me"),
                     anyone.get(f"/api/congresses/{cid}/state"), anyone.get("/api/openapi.json"),
                     anyone.get(f"/api/congresses/{cid}/chapters.vtt"),
                     anyone.post(f"/api/congresses/{cid}/commands/proposal_board", json={}),
                     staff.post(f"/api/congresses/{cid}/commands/list_delegates", json={}),
                     anyone.post(f"/api/congresses/{cid}/commands/check_in", json={}),  # refused: read_only
                     anyone.get("/static/js/api.js"), anyone.get("/static/css/base.css"),
                     anyone.get("/static/no-such-file.js"), anyone.get("/api/congresses/999/state")):
        assert_api(response)

    # A rendered document (and its other forms) and the opinions printout: sandboxed
    uploaded = staff.post(f"/api/congresses/{cid}/documents", data={"title": "公司工作报告", "is_public": "1"},
                          files={"file": ("工作报告.md", MARKDOWN)})
    assert uploaded.status_code == 200, uploaded.text
    version = uploaded.json()["result"]["versions"][0]["url"]
    rendered = anyone.get(version)
    assert_sandboxed(rendered)
    assert "今年安全生产形势平稳" in rendered.text
    assert "<img" not in rendered.text and "tracker.example" not in rendered.text  # no tracking pixel
    assert "[图片：x]" in rendered.text  # the picture's alt text stays
    assert_sandboxed(anyone.get(version, params={"format": "raw"}))
    assert "<img" not in anyone.get(version, params={"format": "json"}).json()["html"]
    pdf = staff.post(f"/api/congresses/{cid}/documents", data={"title": "附件一", "is_public": "1"},
                     files={"file": ("附件一.pdf", PDF)})
    assert_sandboxed(anyone.get(pdf.json()["result"]["versions"][0]["url"]))
    assert_sandboxed(staff.get(f"/api/congresses/{cid}/opinions/{story.agenda[0]['id']}/print"), disposition=False)

    # A proposal's attachment, as its proposer reads it (a refusal is JSON, with the API's policy)
    draft = as_delegate.post(f"/api/congresses/{cid}/commands/draft_proposal",
                             json={"title": "关于更换破损地坪的建议", "reason": "成品库地坪破损，叉车颠簸。",
                                   "suggestion": "建议分区修补地坪。"})
    pid = draft.json()["result"]["id"]
    attached = as_delegate.post(f"/api/congresses/{cid}/proposals/{pid}/attachments",
                                files={"file": ("地坪照片.pdf", PDF)})
    assert attached.status_code == 201, attached.text
    download = f"/api/congresses/{cid}/proposals/{pid}/attachments/{attached.json()['result']['id']}"
    assert_sandboxed(as_delegate.get(download))
    assert_api(anyone.get(download))
    as_delegate.close()


def test_the_stream_host_is_named_by_its_origin_and_follows_set_stream(running):
    policy = running.page_policy("/watch")
    assert policy["media-src"] == ["'self'", "blob:"] and policy["frame-src"] == ["'self'"]
    assert running.command("set_stream", kind="hls", url="https://live.example.cn/hall/live.m3u8").status_code == 200

    def names_hls(p: dict[str, list[str]]) -> bool:
        return "https://live.example.cn" in p["media-src"]

    for path in ("/watch", "/delegate", "/staff"):
        policy = running.page_policy(path, until=names_hls)
        assert policy["media-src"] == ["'self'", "blob:", "https://live.example.cn"], path
        assert "https://live.example.cn" in policy["connect-src"], path  # hls.js fetches the playlist
        assert policy["frame-src"] == ["'self'"], path
        assert_page(running.anyone.get(path))

    # Moved to an embedded player on another host: that host may be framed, the old one is gone
    assert running.command("set_stream", kind="embed", url="https://player.example.cn/room/7").status_code == 200
    policy = running.page_policy("/watch", until=lambda p: "https://player.example.cn" in p["frame-src"])
    assert policy["frame-src"] == ["'self'", "https://player.example.cn"]
    assert policy["media-src"] == ["'self'", "blob:"] and "https://live.example.cn" not in policy["connect-src"]

    # An address whose host would not be a clean source in the policy is refused, and changes nothing
    for url in ("//evil.example/live.m3u8", "https://live.example.cn;script-src 'unsafe-inline'@x/a.m3u8"):
        refused = running.command("set_stream", kind="hls", url=url)
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "bad_field", url
    assert running.page_policy("/watch")["frame-src"] == ["'self'", "https://player.example.cn"]

    # A path on this server: 'self' covers it, nothing is added
    assert running.command("set_stream", kind="hls", url="/live/hall/live.m3u8").status_code == 200
    policy = running.page_policy("/watch", until=lambda p: p["frame-src"] == ["'self'"])
    assert policy["media-src"] == ["'self'", "blob:"] and policy["frame-src"] == ["'self'"]


def test_staff_choose_which_sites_may_embed_the_watch_page_and_the_big_screen(running):
    cid = running.story.congress_id
    for path in (f"/watch?congress={cid}", f"/screen?congress={cid}", "/watch", "/staff"):
        assert_page(running.anyone.get(path))  # by default: no site

    refused = running.command("set_embedding", origins=["https://portal.example.cn/live"])
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "bad_field"
    assert "嵌入网站" in refused.json()["error"]["message"]
    delegate = running.story.voting()[0]
    cookie, csrf = sign_in(running.server.url, {"employee_id": delegate.employee_id,
                                                "code": running.story.codes[delegate.employee_id],
                                                "congress_id": cid})
    as_delegate = httpx.post(f"{running.server.url}/api/congresses/{cid}/commands/set_embedding",
                             json={"origins": ["https://evil.example"]}, timeout=30,
                             cookies={"congress_session": cookie}, headers={"X-CSRF-Token": csrf})
    assert as_delegate.status_code == 403

    accepted = running.command("set_embedding", origins=["https://Portal.example.cn/", "http://intranet.corp:8080"])
    assert accepted.status_code == 200, accepted.text
    allowed = ["https://portal.example.cn", "http://intranet.corp:8080"]
    assert accepted.json()["result"] == {"origins": allowed}
    setup = running.command("congress_setup").json()["result"]
    assert setup["embed_origins"] == allowed  # what the staff page's field shows

    running.page_policy(f"/watch?congress={cid}", until=lambda p: p["frame-ancestors"] == allowed)
    for path in (f"/watch?congress={cid}", f"/screen?congress={cid}", "/watch", "/screen"):
        assert_page(running.anyone.get(path), ancestors=allowed)
    for name in PAGES:  # every other page, the staff console first: still no site
        if name not in ("watch", "screen"):
            assert_page(running.anyone.get(f"/{name}"))

    # Another congress has its own list (none); /watch without ?congress= shows the latest congress
    created = running.staff.post("/api/congresses", json={"name": "第十届职代会第四次会议", "groups": ["主会场"]})
    assert created.status_code == 201, created.text
    other = created.json()["result"]["id"]
    running.page_policy("/watch", until=lambda p: p["frame-ancestors"] == ["'none'"])
    assert_page(running.anyone.get(f"/watch?congress={other}"))
    assert_page(running.anyone.get("/watch"))
    assert_page(running.anyone.get(f"/watch?congress={cid}"), ancestors=allowed)

    # Emptied: no site again
    assert running.command("set_embedding", origins=[]).json()["result"] == {"origins": []}
    running.page_policy(f"/watch?congress={cid}", until=lambda p: p["frame-ancestors"] == ["'none'"])
    assert_page(running.anyone.get(f"/watch?congress={cid}"))


def test_hsts_only_when_the_site_is_served_over_https(db, database_url):  # type: ignore[no-untyped-def]
    for is_https in (False, True):
        server = LiveServer(Settings(database_url=database_url, port=0, is_https=is_https)).start()
        try:
            with httpx.Client(base_url=server.url, timeout=30) as client:
                page = client.get("/sign-in")
                assert_page(page) if not is_https else assert_common(page, https=True)
                assert_common(client.get("/api/congresses"), https=is_https)
                if is_https:  # behind TLS the live connection is wss://
                    connect = directives(page.headers["content-security-policy"])["connect-src"]
                    assert connect == ["'self'", f"wss://127.0.0.1:{server.port}"]
        finally:
            server.stop()
