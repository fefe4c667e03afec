"""What the department and next-session notice tests share: a second department, the four kinds
of a case's notices, one sender's pass at a set time, staff's view, and each e-mail's link."""

from __future__ import annotations

from congress.actions.base import Context
from congress.actions.notices import notices_view
from congress.application.notice_sender import Sender
from congress.notices.settings import smtp_settings
from tests.notices.conftest import SetClock
from tests.notices.test_delivery import T0
from tests.story import SETUP

HQ, HQ_MAIL = "后勤服务中心", "hq@example.cn"
KINDS = ("【提案交办】", "还有 7 天", "还有 1 天", "【已超期】")


def drain(db, at):  # type: ignore[no-untyped-def]
    return Sender(db, SetClock(at), smtp=smtp_settings()).drain()[0]


def view(db, congress_id: int):  # type: ignore[no-untyped-def]
    with db.read() as session:
        return notices_view(Context(session, SETUP, T0), congress_id)


def links(mailbox, to: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Each message's subject -> the link at its end."""
    return {str(m["Subject"]): m.get_content().strip().splitlines()[-1] for m in mailbox.messages if str(m["To"]) == to}
