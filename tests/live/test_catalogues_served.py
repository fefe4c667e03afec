"""The pages' catalogues and the error params, through a real server (issue 20 point 4): web/i18n/*.json
is served like the other static files (JSON content type, ETag and Last-Modified to revalidate, the
API's locked-down policy), and a refusal names its field in `params` beside the Chinese `message`."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from congress.settings import Settings
from tests.story import LiveServer, Story, build_story, sign_in


@pytest.fixture
def served(db, database_url) -> Iterator[tuple[Story, LiveServer]]:  # type: ignore[no-untyped-def]
    story = build_story(db)
    server = LiveServer(Settings(database_url=database_url, port=0)).start()
    try:
        yield story, server
    finally:
        server.stop()


def test_the_catalogues_are_served_as_json_and_cached_like_the_scripts(served):
    _, server = served
    with httpx.Client(base_url=server.url, timeout=30) as anyone:
        script = anyone.get("/static/js/i18n.js")
        for lang in ("zh-CN", "en"):
            response = anyone.get(f"/static/i18n/{lang}.json")
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("application/json")
            assert response.json()["lang.switch"] == ("English" if lang == "zh-CN" else "中文")
            for header in ("etag", "last-modified"):  # revalidated as the scripts are
                assert header in response.headers and header in script.headers
            assert response.headers.get("cache-control") == script.headers.get("cache-control")
            assert response.headers["x-content-type-options"] == "nosniff"
            assert "default-src 'none'" in response.headers["content-security-policy"]
            again = anyone.get(f"/static/i18n/{lang}.json", headers={"If-None-Match": response.headers["etag"]})
            assert again.status_code == 304


def test_a_refusal_names_its_field_in_params(served):
    story, server = served
    cookie, csrf = sign_in(server.url, {"login": "staff", "password": story.staff_password})
    with httpx.Client(base_url=server.url, timeout=30, cookies={"congress_session": cookie},
                      headers={"X-CSRF-Token": csrf}) as staff:
        url = f"/api/congresses/{story.congress_id}/commands/create_vote"
        missing = staff.post(url, json={"agenda_item_id": story.agenda[0]["id"], "title": "表决"}).json()["error"]
        assert missing["code"] == "missing_field" and missing["params"] == {"field": "questions"}
        assert "questions" in missing["message"]  # the Chinese message stays as it was
        wrong = staff.post(url, json={"agenda_item_id": "一", "title": "表决", "questions": []}).json()["error"]
        assert wrong["code"] == "bad_field" and wrong["params"] == {"field": "agenda_item_id"}
        # a rule of the action names its field too: a key of a question, a key of the rules
        seats = staff.post(url, json={"agenda_item_id": story.agenda[0]["id"], "title": "选举", "questions": [
            {"kind": "election", "text": "选举工会委员", "candidates": ["甲", "乙"], "seats": 0}]}).json()["error"]
        assert seats["code"] == "bad_field" and seats["params"] == {"field": "questions[].seats"}
        rules = staff.post(f"/api/congresses/{story.congress_id}/commands/set_rules",
                           json={"rules": {"quorum": "3/2"}}).json()["error"]
        assert rules["code"] == "bad_field" and rules["params"] == {"field": "rules.quorum"}
        plain = staff.post(f"/api/congresses/{story.congress_id}/commands/no_such_op", json={}).json()["error"]
        assert plain["code"] == "unknown_op" and "params" not in plain  # no params: the reply as before
