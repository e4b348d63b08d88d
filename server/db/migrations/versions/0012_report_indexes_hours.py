"""reports of the owner (#17): indexes for the period and member reports, and the report
cache rebuilt with its new ``hour`` dimension (report_days is a cache of the sales tables:
emptying it is always safe, the next report or the nightly job builds it again)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 20:00:00
"""

from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

INDEXES = (
    # member reports: new members of a period, dormant members (no visit since …)
    ('ix_members_created_at', 'members', ['created_at']),
    ('ix_members_last_visit_at', 'members', ['last_visit_at']),
    # spending per member in a period: the period's sales read from the index only
    ('ix_sales_business_date_member', 'sales', ['business_date', 'member_id', 'total']),
    # movements and uses in a period
    ('ix_stock_ledger_at', 'stock_ledger', ['at']),
    ('ix_count_card_ledger_at', 'count_card_ledger', ['at']),
    ('ix_points_ledger_at', 'points_ledger', ['at']),
)


def upgrade() -> None:
    for name, table, cols in INDEXES:
        op.create_index(name, table, cols)
    op.execute("DELETE FROM report_days")


def downgrade() -> None:
    for name, table, _cols in reversed(INDEXES):
        op.drop_index(name, table_name=table)
