"""Fixtures shared by the operations tests (servers behind nginx, metrics, restarts)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from congress.db.migrate import upgrade
from tests.conftest import create_pg_database, drop_pg_database


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, migrated database on the machine's PostgreSQL (what `congress serve` workers share),
    dropped afterwards."""
    url = create_pg_database()
    try:
        upgrade(url)
        yield url
    finally:
        drop_pg_database(url)
