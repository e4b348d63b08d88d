"""the members' totals kept as they change (``member_totals``, striped): the stored-value
liability, points outstanding and the members report's counts without a pass over every
member (#17 §4: the liability reports read cached balances); filled from ``members``

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 00:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'member_totals',
        sa.Column('stripe', sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column('members', sa.BigInteger(), nullable=False),
        sa.Column('sv_principal', sa.BigInteger(), nullable=False),
        sa.Column('sv_bonus', sa.BigInteger(), nullable=False),
        sa.Column('with_balance', sa.BigInteger(), nullable=False),
        sa.Column('points', sa.BigInteger(), nullable=False),
        sa.Column('with_points', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('stripe', name=op.f('pk_member_totals')),
        mysql_charset='utf8mb4', mysql_collate='utf8mb4_unicode_ci', mysql_engine='InnoDB')
    # the same statements as ``server.domain.member_totals.RECOUNT_SQL`` (a migration keeps
    # its own copy: it must do what it did when it was written)
    op.execute("INSERT INTO member_totals (stripe, members, sv_principal, sv_bonus, "
               "with_balance, points, with_points) SELECT 0, COALESCE(SUM(active), 0), "
               "COALESCE(SUM(sv_principal), 0), COALESCE(SUM(sv_bonus), 0), "
               "COALESCE(SUM(sv_principal + sv_bonus > 0), 0), COALESCE(SUM(points), 0), "
               "COALESCE(SUM(points > 0), 0) FROM members")
    op.execute("INSERT INTO member_totals (stripe, members, sv_principal, sv_bonus, "
               "with_balance, points, with_points) VALUES "
               + ", ".join(f"({i}, 0, 0, 0, 0, 0, 0)" for i in range(1, 16)))


def downgrade() -> None:
    op.drop_table('member_totals')
