"""report days: per-day report figures of closed business days (a cache; reports.py)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 11:20:00
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    money = [sa.Column(name, sa.BigInteger(), nullable=False)
             for name in ('sales', 'qty', 'list_total', 'total', 'refunds', 'cost',
                          'margin_base', 'refund_cost', 'refund_margin_base')]
    op.create_table(
        'report_days',
        sa.Column('dim', sa.String(length=10), nullable=False),
        sa.Column('business_date', sa.Date(), nullable=False),
        sa.Column('k', sa.String(length=40), nullable=False),
        *money,
        sa.Column('built_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql'),
                  nullable=False),
        sa.PrimaryKeyConstraint('dim', 'business_date', 'k', name=op.f('pk_report_days')),
        mysql_charset='utf8mb4', mysql_collate='utf8mb4_unicode_ci', mysql_engine='InnoDB',
    )


def downgrade() -> None:
    op.drop_table('report_days')
