"""An agenda item as the pages read it.
"""

from __future__ import annotations

from typing import Any

from congress.db.models import AgendaItem


def item_json(item: AgendaItem) -> dict[str, Any]:
    return {"id": item.id, "position": item.position, "kind": item.kind, "title": item.title,
            "description": item.description, "names": item.names, "status": item.status}
