"""command ids bound to their op and arguments: command_result.op and args_digest

A command id resent for another op, or with other arguments, used to get the first command's
reply under the new op (issue 18). Rows stored before this revision have neither (NULL): a resend
of those is answered as before.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('command_result', schema=None) as batch_op:
        batch_op.add_column(sa.Column('op', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('args_digest', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('command_result', schema=None) as batch_op:
        batch_op.drop_column('args_digest')
        batch_op.drop_column('op')
