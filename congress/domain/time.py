"""Times shown to people: the congress meets in China, so pages and words use Beijing time."""

from datetime import timedelta, timezone

BEIJING = timezone(timedelta(hours=8))
