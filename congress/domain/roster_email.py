"""The roster's optional e-mail column (电子邮箱): where notices reach a delegate (docs/notices.md).

Pure. A roster without the column leaves every delegate's address as it is; with it, a filled cell
sets the address and an empty one clears it. The re-import report says that an address was added,
changed or removed, never the address itself (the CLI prints that report).
"""

from __future__ import annotations

import re
import unicodedata

FIELD = "email"
LABEL = "电子邮箱"
# Compared as roster headers are: NFKC, lower case, no spaces
HEADERS = ("email", "e-mail", "邮箱", "电子邮箱", "电子邮件", "邮件地址", "电子邮件地址")
MAX_LENGTH = 200  # delegate.email's column
# One @, a local part and a dotted domain without spaces or a second @: what a mail server takes
# from a roster typed by hand; it does not ask the domain whether the mailbox exists.
_ADDRESS = re.compile(r"[^@\s,;<>()\[\]\"]+@[^@\s,;<>()\[\]\".]+(\.[^@\s,;<>()\[\]\".]+)+")


def normalise_email(cell: str) -> str:
    """The address as stored: full-width characters folded (＠ → @), spaces at the ends removed."""
    return unicodedata.normalize("NFKC", cell).strip()


def email_problem(address: str) -> str | None:
    """Why `address` (normalised, not empty) cannot be a delegate's e-mail, in Chinese; None when it can."""
    if len(address) > MAX_LENGTH:
        return f"电子邮箱过长（最多 {MAX_LENGTH} 个字符）"
    if not _ADDRESS.fullmatch(address):
        return f"电子邮箱“{address}”格式不正确，应形如 name@example.com（一格只填一个地址）"
    return None


def email_change(before: str | None, after: str | None) -> str | None:
    """How a re-import changes an address, without saying it: 新增 / 更改 / 删除; None when it does
    not (`after` None: the file has no e-mail column)."""
    if after is None or (before or "") == after:
        return None
    if not before:
        return "已填写"
    return "已删除" if not after else "已更改"
