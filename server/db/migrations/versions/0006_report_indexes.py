"""report indexes: covering indexes for the sales reports (bench/README.md)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 09:46:39.139818

The new sale_lines / sale_payments indexes start with ``sale_id`` and replace the single-column
ones (which were their prefixes); each is created BEFORE the old one is dropped, because the
foreign key on ``sale_id`` needs an index at every moment.
"""

from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_sales_business_date_report', 'sales',
                    ['business_date', 'staff_id', 'list_total', 'total'], unique=False)
    op.create_index('ix_sale_lines_sale_id_report', 'sale_lines',
                    ['sale_id', 'category_id', 'product_id', 'count_card_template_id', 'qty',
                     'list_amount', 'amount', 'cost'], unique=False)
    op.drop_index(op.f('ix_sale_lines_sale_id'), table_name='sale_lines')
    op.create_index('ix_sale_payments_sale_id_method', 'sale_payments',
                    ['sale_id', 'method', 'amount'], unique=False)
    op.drop_index(op.f('ix_sale_payments_sale_id'), table_name='sale_payments')
    op.create_index('ix_refunds_business_date', 'refunds',
                    ['business_date', 'staff_id', 'total'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_refunds_business_date', table_name='refunds')
    op.create_index(op.f('ix_sale_payments_sale_id'), 'sale_payments', ['sale_id'], unique=False)
    op.drop_index('ix_sale_payments_sale_id_method', table_name='sale_payments')
    op.create_index(op.f('ix_sale_lines_sale_id'), 'sale_lines', ['sale_id'], unique=False)
    op.drop_index('ix_sale_lines_sale_id_report', table_name='sale_lines')
    op.drop_index('ix_sales_business_date_report', table_name='sales')
