"""the owner's reports at a million members (#17, bench/README.md): covering indexes, so a
period's ledger sums, the liabilities and the exceptions read an index only

- stored-value, points and stock ledgers: ``(at, kind, <change columns>)`` in place of the
  plain ``at`` index (a period's sums per kind, index only);
- members: the cached balances ``(active, sv_principal, sv_bonus, points)`` (the liability
  is one pass over an index, not over the member rows);
- sales: ``(business_date, manual_discount, order_discount)`` (the period's discounted sales);
- audit_log: ``(action, at)`` (voids of a period without reading every entry of it).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 21:10:00
"""

from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

REPLACED = (
    ('ix_stored_value_ledger_at', 'stored_value_ledger', ['at'],
     'ix_stored_value_ledger_at_kind', ['at', 'kind', 'principal_change', 'bonus_change']),
    ('ix_points_ledger_at', 'points_ledger', ['at'],
     'ix_points_ledger_at_kind', ['at', 'kind', 'change']),
    ('ix_stock_ledger_at', 'stock_ledger', ['at'],
     'ix_stock_ledger_at_kind', ['at', 'kind', 'change']),
)
ADDED = (
    ('ix_members_balances', 'members', ['active', 'sv_principal', 'sv_bonus', 'points']),
    ('ix_sales_business_date_discount', 'sales',
     ['business_date', 'manual_discount', 'order_discount']),
    ('ix_audit_log_action_at', 'audit_log', ['action', 'at']),
)


def upgrade() -> None:
    for old, table, _cols, new, cols in REPLACED:
        op.create_index(new, table, cols)
        op.drop_index(old, table_name=table)
    for name, table, cols in ADDED:
        op.create_index(name, table, cols)


def downgrade() -> None:
    for name, table, _cols in reversed(ADDED):
        op.drop_index(name, table_name=table)
    for old, table, cols, new, _cols in reversed(REPLACED):
        op.create_index(old, table, cols)
        op.drop_index(new, table_name=table)
