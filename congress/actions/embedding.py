"""Which other sites may show a congress's watch page and big screen inside a frame (set_embedding).

By default no site may: every page is served with `frame-ancestors 'none'`, so a hostile page
cannot lay the staff console (or any page) under a decoy and steal clicks. A union's intranet portal
that wants the live picture on its own page is named here by staff, per congress; then /watch and
/screen of that congress, and only they, name it in `frame-ancestors` (congress/routes/headers.py).

Stored in the instance's key/value table (`setting`, key `embed_origins:<congress id>`, the origins
separated by spaces): a short list staff replace as a whole, read by the header middleware.
"""

from __future__ import annotations

from typing import Any

from congress.actions.base import Context
from congress.db.models import Congress, Setting
from congress.domain.commands import Command, Key, ListOf, Obj, Param
from congress.domain.kinds import Audience
from congress.domain.origins import parse_embed_origins
from congress.domain.permissions import Permission
from congress.reads.embedding import KEY_PREFIX


def set_embedding(ctx: Context, congress_id: int, origins: list[Any]) -> dict[str, Any]:
    """Replace the list of sites allowed to embed this congress's /watch and /screen ([] for none)."""
    ctx.actor.require(Permission.MANAGE_CONGRESS)
    ctx.get(Congress, congress_id, "职代会")
    allowed = parse_embed_origins(origins)
    key = f"{KEY_PREFIX}{congress_id}"
    row = ctx.session.get(Setting, key)
    if row is None:
        ctx.session.add(Setting(key=key, value=" ".join(allowed)))
    else:
        row.value = " ".join(allowed)
    ctx.session.flush()
    # Staff only: the list is no secret (it is in /watch's response header) but nothing for delegates.
    # Every worker's header middleware forgets its cached policy when this event is delivered.
    ctx.emit(congress_id, "embedding.set", {"origins": list(allowed)}, Audience.STAFF)
    return {"origins": list(allowed)}


COMMANDS: tuple[Command, ...] = (
    Command("set_embedding", set_embedding,
            (Param("origins", list, doc="允许嵌入观看页和大屏幕的网站，如 https://portal.example.cn；空列表为不允许",
                   shape=ListOf(str, "https://host[:port], no path; at most 10")),),
            "设置哪些网站可以把观看页和大屏幕嵌入自己的页面",
            result=Obj((Key("origins", ListOf(str), "normalised"),),
                       "the sites whose pages may show this congress's /watch and /screen in a frame"),
            errors=("bad_field", "not_found"), permissions=(Permission.MANAGE_CONGRESS,)),
)
