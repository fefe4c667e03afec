"""What one delegate may pile up when filing proposals: pure checks, no I/O (docs/proposals.md).

Found in issue 18: drafts were unlimited and each could carry 5 × 10 MB, so one delegate could fill
the database. A delegate files a handful of proposals in a congress; these caps are far above that.
Each refusal names its limit and changes nothing.
"""

from __future__ import annotations

from congress.domain.errors import DomainError

MB = 1024 * 1024
MAX_OPEN_DRAFTS = 20  # drafts (not yet submitted) one delegate may hold at once
MAX_ATTACHMENTS = 5  # per proposal
MAX_ATTACHMENT_BYTES = 10 * MB  # per file
MAX_ATTACHMENT_BYTES_PER_DELEGATE = 100 * MB  # all files on all of one delegate's proposals


def check_new_draft(open_drafts: int) -> None:
    """A new draft, with `open_drafts` of this delegate's drafts already there."""
    if open_drafts >= MAX_OPEN_DRAFTS:
        raise DomainError("draft_limit", f"每位代表最多同时保留 {MAX_OPEN_DRAFTS} 份未提交的草稿，"
                                         "请先提交已有的草稿再新建", params={"limit": MAX_OPEN_DRAFTS})


def check_attachment(size: int, on_proposal: int, delegate_bytes: int) -> None:
    """A new file of `size` bytes on a proposal that has `on_proposal` files, its proposer's files
    already holding `delegate_bytes` bytes in all."""
    if size <= 0:
        raise DomainError("bad_file", "附件是空文件")
    if size > MAX_ATTACHMENT_BYTES:
        raise DomainError("bad_file", f"附件不能超过 {MAX_ATTACHMENT_BYTES // MB} MB")
    if on_proposal >= MAX_ATTACHMENTS:
        raise DomainError("bad_file", f"每件提案最多 {MAX_ATTACHMENTS} 个附件")
    if delegate_bytes + size > MAX_ATTACHMENT_BYTES_PER_DELEGATE:
        raise DomainError("attachment_quota", f"每位代表的附件合计不能超过 {MAX_ATTACHMENT_BYTES_PER_DELEGATE // MB} MB"
                                              f"（已用 {delegate_bytes / MB:.1f} MB，本文件 {size / MB:.1f} MB）",
                               params={"limit": f"{MAX_ATTACHMENT_BYTES_PER_DELEGATE // MB} MB"})
