"""activities and promotions (活动 / 促销, #18 §3): activities, activity_signups, promotions;
sales.promotion_discount, sale_lines.promotion_discount / promotion_id / activity_id

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 21:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql')
TS = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')
TABLE = dict(mysql_charset='utf8mb4', mysql_collate='utf8mb4_unicode_ci',
             mysql_engine='InnoDB')


def _fk(table: str, col: str, ref: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([col], [f'{ref}.id'], name=op.f(f'fk_{table}_{col}_{ref}'))


def upgrade() -> None:
    op.add_column('sales', sa.Column('promotion_discount', sa.BigInteger(), nullable=False,
                                     server_default='0'))
    op.add_column('sale_lines', sa.Column('activity_id', sa.BigInteger(), nullable=True))
    op.add_column('sale_lines', sa.Column('promotion_discount', sa.BigInteger(),
                                          nullable=False, server_default='0'))
    op.add_column('sale_lines', sa.Column('promotion_id', sa.BigInteger(), nullable=True))
    op.create_index('ix_sale_lines_activity_id', 'sale_lines', ['activity_id'])
    t = 'activities'
    op.create_table(
        t,
        sa.Column('id', BIGID, autoincrement=True, nullable=False),
        sa.Column('title', sa.String(length=60), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('place', sa.String(length=60), nullable=False),
        sa.Column('starts_at', TS, nullable=False),
        sa.Column('ends_at', TS, nullable=False),
        sa.Column('capacity', sa.BigInteger(), nullable=False),
        sa.Column('price', sa.BigInteger(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('description', sa.String(length=255), nullable=True),
        sa.Column('taken', sa.BigInteger(), nullable=False),
        sa.Column('created_by', BIGID, nullable=True),
        sa.Column('created_at', TS, nullable=False),
        sa.Column('updated_at', TS, nullable=False),
        _fk(t, 'created_by', 'staff'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_activities')),
        **TABLE)
    op.create_index('ix_activities_starts_at', t, ['starts_at'])
    t = 'activity_signups'
    op.create_table(
        t,
        sa.Column('id', BIGID, autoincrement=True, nullable=False),
        sa.Column('activity_id', BIGID, nullable=False),
        sa.Column('member_id', BIGID, nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('price', sa.BigInteger(), nullable=False),
        sa.Column('sale_id', BIGID, nullable=True),
        sa.Column('sale_line_id', sa.BigInteger(), nullable=True),
        sa.Column('counter', sa.String(length=32), nullable=False),
        sa.Column('by_staff_id', BIGID, nullable=True),
        sa.Column('signed_up_at', TS, nullable=False),
        sa.Column('checked_in_at', TS, nullable=True),
        sa.Column('cancelled_at', TS, nullable=True),
        sa.Column('cancel_reason', sa.String(length=255), nullable=True),
        _fk(t, 'activity_id', 'activities'), _fk(t, 'member_id', 'members'),
        _fk(t, 'sale_id', 'sales'), _fk(t, 'by_staff_id', 'staff'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_signups')),
        sa.UniqueConstraint('activity_id', 'member_id',
                            name=op.f('uq_activity_signups_activity_id_member_id')),
        **TABLE)
    op.create_index('ix_activity_signups_member_id', t, ['member_id'])
    op.create_index('ix_activity_signups_sale_line_id', t, ['sale_line_id'])
    t = 'promotions'
    op.create_table(
        t,
        sa.Column('id', BIGID, autoincrement=True, nullable=False),
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('starts_at', TS, nullable=False),
        sa.Column('ends_at', TS, nullable=False),
        sa.Column('rate_bp', sa.BigInteger(), nullable=False),
        sa.Column('price_fen', sa.BigInteger(), nullable=False),
        sa.Column('points_multiplier', sa.SmallInteger(), nullable=False),
        sa.Column('category_ids', sa.JSON(), nullable=False),
        sa.Column('product_ids', sa.JSON(), nullable=False),
        sa.Column('level_ids', sa.JSON(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('note', sa.String(length=255), nullable=True),
        sa.Column('created_by', BIGID, nullable=True),
        sa.Column('created_at', TS, nullable=False),
        sa.Column('updated_at', TS, nullable=False),
        _fk(t, 'created_by', 'staff'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_promotions')),
        **TABLE)
    op.create_index('ix_promotions_ends_at', t, ['ends_at'])


def downgrade() -> None:
    op.drop_table('promotions')
    op.drop_table('activity_signups')
    op.drop_table('activities')
    op.drop_index('ix_sale_lines_activity_id', table_name='sale_lines')
    op.drop_column('sale_lines', 'promotion_id')
    op.drop_column('sale_lines', 'promotion_discount')
    op.drop_column('sale_lines', 'activity_id')
    op.drop_column('sales', 'promotion_discount')
