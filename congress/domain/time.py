"""Times shown to people: the congress meets in China, so pages and words use Beijing time."""

from datetime import UTC, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8))


def iso(unix: float) -> str:
    """A moment (unix seconds) as ISO 8601 text in UTC, as the live messages carry it."""
    return datetime.fromtimestamp(unix, UTC).isoformat()


def beijing(text: str | None) -> str | None:
    """An ISO 8601 moment (as stored and sent, in UTC) as people read it: in Beijing time."""
    return datetime.fromisoformat(text).astimezone(BEIJING).isoformat() if text else None
