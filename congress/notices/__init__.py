"""Notices where people read them (issue 19): the outbox writer, the channels and the sender.

The rules are pure (congress.domain.notices); `outbox` writes rows in the event's own transaction,
`channels` talks SMTP and the group robots' webhooks, `sender` claims, sends and records rows.
docs/notices.md describes the whole.
"""
