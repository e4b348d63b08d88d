"""sales, refunds, held orders, shifts, commission, approvals

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 09:08:07.439652
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sale_sequences',
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('counter', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('last_no', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('business_date', 'counter', 'kind', name=op.f('pk_sale_sequences')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_table('approvals',
    sa.Column('id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), autoincrement=True, nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('staff_id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), nullable=False),
    sa.Column('requested_by', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), nullable=True),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('counter', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.Column('expires_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.Column('used_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=True),
    sa.Column('used_ref', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['requested_by'], ['staff.id'], name=op.f('fk_approvals_requested_by_staff')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_approvals_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approvals')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_approvals_token_hash')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_table('held_orders',
    sa.Column('id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), autoincrement=True, nullable=False),
    sa.Column('version', sa.SmallInteger(), nullable=False),
    sa.Column('label', sa.String(length=64), nullable=True),
    sa.Column('counter', sa.String(length=32), nullable=False),
    sa.Column('staff_id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_held_orders_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_held_orders')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_table('shifts',
    sa.Column('id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), autoincrement=True, nullable=False),
    sa.Column('counter', sa.String(length=32), nullable=False),
    sa.Column('staff_id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('opened_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.Column('closed_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=True),
    sa.Column('float_amount', sa.BigInteger(), nullable=False),
    sa.Column('expected_cash', sa.BigInteger(), nullable=True),
    sa.Column('counted_cash', sa.BigInteger(), nullable=True),
    sa.Column('difference', sa.BigInteger(), nullable=True),
    sa.Column('denominations', sa.JSON(), nullable=True),
    sa.Column('report', sa.JSON(), nullable=True),
    sa.Column('note', sa.String(length=255), nullable=True),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_shifts_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shifts')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_index('ix_shifts_business_date', 'shifts', ['business_date'], unique=False)
    op.create_index('ix_shifts_counter_status', 'shifts', ['counter', 'status'], unique=False)
    op.create_table('sales',
    sa.Column('id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('number', sa.String(length=24), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('counter', sa.String(length=32), nullable=False),
    sa.Column('staff_id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), nullable=False),
    sa.Column('shift_id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), nullable=True),
    sa.Column('member_id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), nullable=True),
    sa.Column('coupon_id', sa.BigInteger(), nullable=True),
    sa.Column('approved_by', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), nullable=True),
    sa.Column('list_total', sa.BigInteger(), nullable=False),
    sa.Column('member_discount', sa.BigInteger(), nullable=False),
    sa.Column('manual_discount', sa.BigInteger(), nullable=False),
    sa.Column('count_card_discount', sa.BigInteger(), nullable=False),
    sa.Column('coupon_discount', sa.BigInteger(), nullable=False),
    sa.Column('order_discount', sa.BigInteger(), nullable=False),
    sa.Column('rounding_discount', sa.BigInteger(), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('paid_total', sa.BigInteger(), nullable=False),
    sa.Column('change', sa.BigInteger(), nullable=False),
    sa.Column('refunded_total', sa.BigInteger(), nullable=False),
    sa.Column('points_earned', sa.BigInteger(), nullable=False),
    sa.Column('note', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.ForeignKeyConstraint(['approved_by'], ['staff.id'], name=op.f('fk_sales_approved_by_staff')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_sales_member_id_members')),
    sa.ForeignKeyConstraint(['shift_id'], ['shifts.id'], name=op.f('fk_sales_shift_id_shifts')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_sales_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales')),
    sa.UniqueConstraint('number', name=op.f('uq_sales_number')),
    sa.UniqueConstraint('uuid', name=op.f('uq_sales_uuid')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_index('ix_sales_business_date_counter', 'sales', ['business_date', 'counter'], unique=False)
    op.create_index('ix_sales_created_at', 'sales', ['created_at'], unique=False)
    op.create_index('ix_sales_member_id_created_at', 'sales', ['member_id', 'created_at'], unique=False)
    op.create_index('ix_sales_shift_id', 'sales', ['shift_id'], unique=False)
    op.create_table('refunds',
    sa.Column('id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('number', sa.String(length=24), nullable=False),
    sa.Column('sale_id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('counter', sa.String(length=32), nullable=False),
    sa.Column('staff_id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), nullable=False),
    sa.Column('shift_id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), nullable=True),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('points_reversed', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.ForeignKeyConstraint(['sale_id'], ['sales.id'], name=op.f('fk_refunds_sale_id_sales')),
    sa.ForeignKeyConstraint(['shift_id'], ['shifts.id'], name=op.f('fk_refunds_shift_id_shifts')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_refunds_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refunds')),
    sa.UniqueConstraint('number', name=op.f('uq_refunds_number')),
    sa.UniqueConstraint('uuid', name=op.f('uq_refunds_uuid')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_index('ix_refunds_sale_id', 'refunds', ['sale_id'], unique=False)
    op.create_index('ix_refunds_shift_id', 'refunds', ['shift_id'], unique=False)
    op.create_table('sale_lines',
    sa.Column('id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), autoincrement=True, nullable=False),
    sa.Column('sale_id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), nullable=False),
    sa.Column('line_no', sa.SmallInteger(), nullable=False),
    sa.Column('product_id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), nullable=True),
    sa.Column('count_card_template_id', sa.BigInteger(), nullable=True),
    sa.Column('issued_count_card_id', sa.BigInteger(), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('category_id', sa.BigInteger(), nullable=True),
    sa.Column('qty', sa.BigInteger(), nullable=False),
    sa.Column('unit_price', sa.BigInteger(), nullable=False),
    sa.Column('list_amount', sa.BigInteger(), nullable=False),
    sa.Column('member_discount', sa.BigInteger(), nullable=False),
    sa.Column('manual_discount', sa.BigInteger(), nullable=False),
    sa.Column('count_card_discount', sa.BigInteger(), nullable=False),
    sa.Column('coupon_discount', sa.BigInteger(), nullable=False),
    sa.Column('order_discount', sa.BigInteger(), nullable=False),
    sa.Column('rounding_discount', sa.BigInteger(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('price_source', sa.String(length=16), nullable=False),
    sa.Column('count_card_id', sa.BigInteger(), nullable=True),
    sa.Column('cost', sa.BigInteger(), nullable=True),
    sa.Column('staff_shares', sa.JSON(), nullable=True),
    sa.Column('refunded_qty', sa.BigInteger(), nullable=False),
    sa.Column('refunded_amount', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_sale_lines_product_id_products')),
    sa.ForeignKeyConstraint(['sale_id'], ['sales.id'], name=op.f('fk_sale_lines_sale_id_sales')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sale_lines')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_index('ix_sale_lines_product_id', 'sale_lines', ['product_id'], unique=False)
    op.create_index('ix_sale_lines_sale_id', 'sale_lines', ['sale_id'], unique=False)
    op.create_table('sale_payments',
    sa.Column('id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), autoincrement=True, nullable=False),
    sa.Column('sale_id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('tendered', sa.BigInteger(), nullable=True),
    sa.Column('change', sa.BigInteger(), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=True),
    sa.Column('points', sa.BigInteger(), nullable=True),
    sa.Column('principal', sa.BigInteger(), nullable=True),
    sa.Column('bonus', sa.BigInteger(), nullable=True),
    sa.Column('refunded', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['sale_id'], ['sales.id'], name=op.f('fk_sale_payments_sale_id_sales')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sale_payments')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_index('ix_sale_payments_sale_id', 'sale_payments', ['sale_id'], unique=False)
    op.create_table('commission_ledger',
    sa.Column('id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), autoincrement=True, nullable=False),
    sa.Column('staff_id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), nullable=False),
    sa.Column('sale_id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), nullable=False),
    sa.Column('sale_line_id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), nullable=False),
    sa.Column('refund_id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('base_amount', sa.BigInteger(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.ForeignKeyConstraint(['refund_id'], ['refunds.id'], name=op.f('fk_commission_ledger_refund_id_refunds')),
    sa.ForeignKeyConstraint(['sale_id'], ['sales.id'], name=op.f('fk_commission_ledger_sale_id_sales')),
    sa.ForeignKeyConstraint(['sale_line_id'], ['sale_lines.id'], name=op.f('fk_commission_ledger_sale_line_id_sale_lines')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_commission_ledger_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commission_ledger')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_index('ix_commission_ledger_sale_line_id', 'commission_ledger', ['sale_line_id'], unique=False)
    op.create_index('ix_commission_ledger_staff_id_at', 'commission_ledger', ['staff_id', 'at'], unique=False)
    op.create_table('refund_lines',
    sa.Column('id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), autoincrement=True, nullable=False),
    sa.Column('refund_id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), nullable=False),
    sa.Column('sale_line_id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), nullable=False),
    sa.Column('qty', sa.BigInteger(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['refund_id'], ['refunds.id'], name=op.f('fk_refund_lines_refund_id_refunds')),
    sa.ForeignKeyConstraint(['sale_line_id'], ['sale_lines.id'], name=op.f('fk_refund_lines_sale_line_id_sale_lines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refund_lines')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_index('ix_refund_lines_refund_id', 'refund_lines', ['refund_id'], unique=False)
    op.create_table('refund_payments',
    sa.Column('id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), autoincrement=True, nullable=False),
    sa.Column('refund_id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), nullable=False),
    sa.Column('sale_payment_id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['refund_id'], ['refunds.id'], name=op.f('fk_refund_payments_refund_id_refunds')),
    sa.ForeignKeyConstraint(['sale_payment_id'], ['sale_payments.id'], name=op.f('fk_refund_payments_sale_payment_id_sale_payments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refund_payments')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_index('ix_refund_payments_refund_id', 'refund_payments', ['refund_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_refund_payments_refund_id', table_name='refund_payments')
    op.drop_table('refund_payments')
    op.drop_index('ix_refund_lines_refund_id', table_name='refund_lines')
    op.drop_table('refund_lines')
    op.drop_index('ix_commission_ledger_staff_id_at', table_name='commission_ledger')
    op.drop_index('ix_commission_ledger_sale_line_id', table_name='commission_ledger')
    op.drop_table('commission_ledger')
    op.drop_index('ix_sale_payments_sale_id', table_name='sale_payments')
    op.drop_table('sale_payments')
    op.drop_index('ix_sale_lines_sale_id', table_name='sale_lines')
    op.drop_index('ix_sale_lines_product_id', table_name='sale_lines')
    op.drop_table('sale_lines')
    op.drop_index('ix_refunds_shift_id', table_name='refunds')
    op.drop_index('ix_refunds_sale_id', table_name='refunds')
    op.drop_table('refunds')
    op.drop_index('ix_sales_shift_id', table_name='sales')
    op.drop_index('ix_sales_member_id_created_at', table_name='sales')
    op.drop_index('ix_sales_created_at', table_name='sales')
    op.drop_index('ix_sales_business_date_counter', table_name='sales')
    op.drop_table('sales')
    op.drop_index('ix_shifts_counter_status', table_name='shifts')
    op.drop_index('ix_shifts_business_date', table_name='shifts')
    op.drop_table('shifts')
    op.drop_table('held_orders')
    op.drop_table('approvals')
    op.drop_table('sale_sequences')
