"""The one exception the pure layers raise when a rule refuses something."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal staff can act on: `code` is stable snake_case for programs, `message` is Chinese for people.

    `params` (optional) names what the message is about, e.g. {"field": "questions"}: the pages build
    their own words from the code and these (web/i18n/<lang>.json `error.<code>.<param>…`), so an
    English page can say what went wrong too. Only plain JSON values."""

    code: str
    message: str
    params: dict[str, Any]

    def __init__(self, code: str, message: str, params: dict[str, Any] | None = None) -> None:
        # code and message go to args so the error survives pickling (e.g. across worker
        # processes); params is in __dict__, which pickling keeps as well.
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.params = dict(params or {})

    def reply(self) -> dict[str, Any]:
        """The error's fields in a reply (HTTP `error`, websocket `msg: error`): params only when given."""
        return {"code": self.code, "message": self.message, **({"params": self.params} if self.params else {})}

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"DomainError({self.code!r}, {self.message!r}{f', {self.params!r}' if self.params else ''})"
