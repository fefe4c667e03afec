"""Notices where people read them (issue 19): the outbox a writer fills, and the channels.

The rules are pure (congress.domain.notices); `outbox` writes rows in the event's own transaction,
`channels` talks SMTP and the group robots' webhooks; the sender that claims, sends and records
rows runs in the application layer (congress.application.notice_sender).
docs/notices.md describes the whole.
"""
