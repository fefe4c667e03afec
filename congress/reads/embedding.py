"""Which websites may frame the watch page and the big screen, per congress (set by staff).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from congress.db.models import Setting


def embed_origins(session: Session, congress_id: int) -> tuple[str, ...]:
    row = session.get(Setting, f"{KEY_PREFIX}{congress_id}")
    return tuple(row.value.split()) if row is not None else ()


def all_embed_origins(session: Session) -> dict[int, tuple[str, ...]]:
    """Every congress's embedding sites, for the header middleware's cache (one query)."""
    rows = session.execute(sa.select(Setting.key, Setting.value).where(Setting.key.startswith(KEY_PREFIX)))
    result = {}
    for key, value in rows:
        suffix = key[len(KEY_PREFIX):]
        if suffix.isdigit() and value.split():
            result[int(suffix)] = tuple(value.split())
    return result


KEY_PREFIX = "embed_origins:"
