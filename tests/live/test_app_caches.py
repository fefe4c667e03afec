"""Two apps in one process (two real uvicorn servers in threads, as the tests start them) on one
database: each answers from its own caches, never from the other's (issue 20, point 5). The board and
the categoriser are kept by each app's Database, the watch-mode memory by its Service; they were
module globals (the board keyed by the database URL, so two apps on one database shared it; the
categoriser by nothing, so a second app was suggested categories learnt from the first one's database)."""

from __future__ import annotations

from typing import Any

from congress.actions.base import Context
from congress.application.service import Service, system_clock
from congress.db.engine import Database
from congress.reads.proposal_views import proposal_board
from congress.reads.suggestions import _categoriser
from congress.settings import Settings
from tests.story import SETUP, LiveServer, build_story


def _service(server: LiveServer) -> Service:
    return server.server.config.app.state.service  # type: ignore[no-any-return]


def _board(service: Service, congress_id: int) -> dict[str, Any]:
    with service.db.read() as session:
        return proposal_board(Context(session, SETUP, system_clock()), congress_id)


def _model(service: Service) -> Any:
    with service.db.read() as session:
        return _categoriser(session)


def test_two_apps_in_one_process_do_not_answer_from_each_others_caches(db: Database, database_url: str) -> None:
    congress_id = build_story(db, with_codes=False).congress_id
    servers = [LiveServer(Settings(database_url=database_url, port=0)).start() for _ in range(2)]
    try:
        first, second = (_service(server) for server in servers)
        board = _board(first, congress_id)
        assert _board(first, congress_id) is board  # an app's second read is answered from its cache
        assert _board(second, congress_id) is not board
        assert _board(second, congress_id) == board  # the same database: the same board, read by each app
        model = _model(first)
        assert _model(first) is model
        assert _model(second) is not model
        assert first.watch_gate is not second.watch_gate
    finally:
        for server in servers:
            server.stop()
