"""The one exception the pure layers raise when a rule refuses something."""

from __future__ import annotations


class DomainError(Exception):
    """A refusal staff can act on: `code` is stable snake_case for programs, `message` is Chinese for people."""

    code: str
    message: str

    def __init__(self, code: str, message: str) -> None:
        # Both go to args so the error survives pickling (e.g. across worker processes).
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"DomainError({self.code!r}, {self.message!r})"
