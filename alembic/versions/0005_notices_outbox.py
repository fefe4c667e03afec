"""notices outbox: notices to departments, proposers and delegates by e-mail and group-robot webhooks (issue 19)

notice_config (a congress's rules: who hears what), notice_channel (e-mail addresses and 企业微信/钉钉/飞书
webhooks, per department or for staff), notice (the outbox, written in the transaction of the event
that causes each row; a unique dedupe key so nothing is queued twice) and delegate.email (optional).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa

import congress.db.base
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str, nullable: bool) -> sa.Column:
    return sa.Column(name, congress.db.base.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        'notice_config',
        sa.Column('congress_id', sa.Integer(), nullable=False),
        sa.Column('rules', sa.JSON(), nullable=False),
        _time('updated_at', False),
        sa.ForeignKeyConstraint(['congress_id'], ['congress.id'], name=op.f('fk_notice_config_congress_id_congress'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('congress_id', name=op.f('pk_notice_config')),
    )
    op.create_table(
        'notice_channel',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('congress_id', sa.Integer(), nullable=False),
        sa.Column('audience', sa.String(length=20), nullable=False),
        sa.Column('department_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('address', sa.String(length=1000), nullable=False),
        sa.Column('secret', sa.String(length=200), nullable=True),
        _time('created_at', False),
        sa.ForeignKeyConstraint(['congress_id'], ['congress.id'], name=op.f('fk_notice_channel_congress_id_congress'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['department_id'], ['department.id'],
                                name=op.f('fk_notice_channel_department_id_department'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_channel')),
    )
    op.create_index(op.f('ix_notice_channel_congress_id'), 'notice_channel', ['congress_id'], unique=False)
    op.create_table(
        'notice',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('congress_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('recipient', sa.String(length=100), nullable=False),
        sa.Column('recipient_label', sa.String(length=200), nullable=False),
        sa.Column('proposal_id', sa.Integer(), nullable=True),
        _time('due_at', True),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('link', sa.String(length=500), nullable=False),
        _time('not_before', False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        _time('next_attempt_at', False),
        _time('lease_until', True),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        _time('sent_at', True),
        _time('created_at', False),
        sa.Column('dedupe_key', sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(['congress_id'], ['congress.id'], name=op.f('fk_notice_congress_id_congress'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], name=op.f('fk_notice_proposal_id_proposal'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notice')),
        sa.UniqueConstraint('dedupe_key', name=op.f('uq_notice_dedupe_key')),
    )
    op.create_index(op.f('ix_notice_congress_id'), 'notice', ['congress_id'], unique=False)
    op.create_index('ix_notice_due', 'notice', ['status', 'next_attempt_at'], unique=False)
    with op.batch_alter_table('delegate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('delegate', schema=None) as batch_op:
        batch_op.drop_column('email')
    op.drop_index('ix_notice_due', table_name='notice')
    op.drop_index(op.f('ix_notice_congress_id'), table_name='notice')
    op.drop_table('notice')
    op.drop_index(op.f('ix_notice_channel_congress_id'), table_name='notice_channel')
    op.drop_table('notice_channel')
    op.drop_table('notice_config')
