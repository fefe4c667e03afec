"""Group review opinions, requests to speak, proposal attachments, and the event hash chain column

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 09:33:09.045358
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


import congress.db.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "group_opinion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("congress_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("agenda_item_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("agreement", sa.Text(), nullable=False),
        sa.Column("suggestions", sa.Text(), nullable=False),
        sa.Column("objections", sa.Text(), nullable=False),
        sa.Column("quoted_message_ids", sa.JSON(), nullable=False),
        sa.Column("drafted_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", congress.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", congress.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("handling", sa.String(length=30), nullable=True),
        sa.Column("handling_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agenda_item_id"],
            ["agenda_item.id"],
            name=op.f("fk_group_opinion_agenda_item_id_agenda_item"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["congress_id"],
            ["congress.id"],
            name=op.f("fk_group_opinion_congress_id_congress"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["delegate_group.id"],
            name=op.f("fk_group_opinion_group_id_delegate_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_opinion")),
        sa.UniqueConstraint(
            "group_id", "agenda_item_id", name=op.f("uq_group_opinion_group_id_agenda_item_id")
        ),
    )
    with op.batch_alter_table("group_opinion", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_group_opinion_congress_id"), ["congress_id"], unique=False)

    op.create_table(
        "speech_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("congress_id", sa.Integer(), nullable=False),
        sa.Column("agenda_item_id", sa.Integer(), nullable=True),
        sa.Column("delegate_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=300), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("seconds_allowed", sa.Integer(), nullable=True),
        sa.Column("requested_at", congress.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", congress.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", congress.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agenda_item_id"],
            ["agenda_item.id"],
            name=op.f("fk_speech_request_agenda_item_id_agenda_item"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["congress_id"],
            ["congress.id"],
            name=op.f("fk_speech_request_congress_id_congress"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["delegate_id"],
            ["delegate.id"],
            name=op.f("fk_speech_request_delegate_id_delegate"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_speech_request")),
    )
    with op.batch_alter_table("speech_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_speech_request_congress_id"), ["congress_id"], unique=False)

    op.create_table(
        "proposal_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", congress.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposal.id"],
            name=op.f("fk_proposal_attachment_proposal_id_proposal"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_attachment")),
    )
    with op.batch_alter_table("proposal_attachment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proposal_attachment_proposal_id"), ["proposal_id"], unique=False)

    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("hash")

    with op.batch_alter_table("proposal_attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposal_attachment_proposal_id"))

    op.drop_table("proposal_attachment")
    with op.batch_alter_table("speech_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_speech_request_congress_id"))

    op.drop_table("speech_request")
    with op.batch_alter_table("group_opinion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_group_opinion_congress_id"))

    op.drop_table("group_opinion")
