"""the event log indexed by congress and type

A snapshot reads a few kinds of event from the log (a cancelled vote's reason, a published result's
record, the hand counts as entered, ballots that came late): by congress and type, not a scan of
the congress's whole log for every viewer who connects.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 08:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_event_congress_type', 'event', ['congress_id', 'type'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_event_congress_type', table_name='event')
