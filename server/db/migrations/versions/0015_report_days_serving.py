"""the report cache's serving dimension (by serving staff, with their commission): a
``commission`` column, and the cache emptied so every closed day is built again with it
(report_days is a cache: the next report or the nightly job rebuilds it)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 21:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('report_days', sa.Column('commission', sa.BigInteger(), nullable=False,
                                           server_default='0'))
    op.execute("DELETE FROM report_days")


def downgrade() -> None:
    op.execute("DELETE FROM report_days WHERE dim = 'serving'")
    op.drop_column('report_days', 'commission')
