"""terms and sessions: a congress belongs to a term (届) and is one of its sessions (次); carried-over proposals (issue 19)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 00:00:00.000000

Each congress made before this revision gets a term of its own, read from its name where the name
says 第N届…第M次 (纸业集团第十届职工代表大会第三次会议 -> term 纸业集团第十届职工代表大会, session 3),
else the congress's own name and session 1. The parser is a frozen copy (a migration must not
change when the program does) of congress.domain.terms.parse_congress_name.
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa

import congress.db.base
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DIGITS = "零一二三四五六七八九"
_NAME = re.compile(r"^(?P<term>.*?第(?P<t>[0-9零一二三四五六七八九十]+)届.*?)第(?P<s>[0-9零一二三四五六七八九十]+)次")


def _number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if "十" not in text:
        return _DIGITS.index(text) if len(text) == 1 and text in _DIGITS else None
    tens, _, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1 or (tens and tens not in _DIGITS) or (ones and ones not in _DIGITS):
        return None
    return (_DIGITS.index(tens) if tens else 1) * 10 + (_DIGITS.index(ones) if ones else 0)


def _parse(name: str) -> tuple[str, int | None, int]:
    match = _NAME.match(name.strip())
    if match:
        term, session = _number(match["t"]), _number(match["s"])
        if term and session:
            return match["term"], term, session
    return name.strip(), None, 1


def _require_foreign_keys_off() -> None:
    """Batch mode rebuilds congress and proposal on SQLite (copy, drop, rename). With foreign keys
    enforced, dropping congress would fire the ON DELETE CASCADE of every table that refers to it;
    migrate.upgrade's own engine never turns them on, and a connection that did is refused here."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite" and bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError("revision 0006 must run on SQLite with PRAGMA foreign_keys=OFF")


def upgrade() -> None:
    op.create_table(
        "term",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("created_at", congress.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_term")),
    )
    _require_foreign_keys_off()
    with op.batch_alter_table("congress", schema=None) as batch_op:
        batch_op.add_column(sa.Column("term_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("session_number", sa.Integer(), server_default="1", nullable=False))
        batch_op.create_index(batch_op.f("ix_congress_term_id"), ["term_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_congress_term_id_term"), "term", ["term_id"], ["id"],
                                    ondelete="RESTRICT")
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.add_column(sa.Column("carried_from_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("carried_from_number", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("carried_from_session", sa.String(length=60), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_proposal_carried_from_id_proposal"), "proposal",
                                    ["carried_from_id"], ["id"], ondelete="SET NULL")

    # Data: a term for each existing congress
    bind = op.get_bind()
    congress_table = sa.table("congress", sa.column("id", sa.Integer), sa.column("name", sa.String),
                        sa.column("created_at", congress.db.base.UTCDateTime(timezone=True)), sa.column("term_id", sa.Integer),
                        sa.column("session_number", sa.Integer))
    term = sa.table("term", sa.column("id", sa.Integer), sa.column("name", sa.String),
                    sa.column("number", sa.Integer), sa.column("created_at", congress.db.base.UTCDateTime(timezone=True)))
    for cid, name, created_at in bind.execute(sa.select(congress_table.c.id, congress_table.c.name, congress_table.c.created_at)
                                              .order_by(congress_table.c.id)).all():
        term_name, number, session = _parse(name)
        term_id = bind.execute(sa.insert(term).values(name=term_name, number=number, created_at=created_at)
                               .returning(term.c.id)).scalar_one()
        bind.execute(sa.update(congress_table).where(congress_table.c.id == cid).values(term_id=term_id, session_number=session))


def downgrade() -> None:
    _require_foreign_keys_off()
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_proposal_carried_from_id_proposal"), type_="foreignkey")
        batch_op.drop_column("carried_from_session")
        batch_op.drop_column("carried_from_number")
        batch_op.drop_column("carried_from_id")
    with op.batch_alter_table("congress", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_congress_term_id_term"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_congress_term_id"))
        batch_op.drop_column("session_number")
        batch_op.drop_column("term_id")
    op.drop_table("term")
