"""catalog and stock

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 08:48:06.411157
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('categories',
    sa.Column('id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_categories')),
    sa.UniqueConstraint('name', name=op.f('uq_categories_name')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_table('products',
    sa.Column('id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('sku', sa.String(length=32), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('pinyin', sa.String(length=32), nullable=False),
    sa.Column('unit', sa.String(length=8), nullable=False),
    sa.Column('category_id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), nullable=True),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.Column('member_price', sa.BigInteger(), nullable=True),
    sa.Column('cost', sa.BigInteger(), nullable=True),
    sa.Column('open_price', sa.Boolean(), nullable=False),
    sa.Column('discountable', sa.Boolean(), nullable=False),
    sa.Column('track_stock', sa.Boolean(), nullable=False),
    sa.Column('stock', sa.BigInteger(), nullable=False),
    sa.Column('low_stock', sa.BigInteger(), nullable=True),
    sa.Column('commission_kind', sa.String(length=8), nullable=False),
    sa.Column('commission_value', sa.BigInteger(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.Column('updated_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_products_category_id_categories')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_products')),
    sa.UniqueConstraint('sku', name=op.f('uq_products_sku')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_index('ix_products_category_id_active', 'products', ['category_id', 'active'], unique=False)
    op.create_index('ix_products_name', 'products', ['name'], unique=False)
    op.create_index('ix_products_pinyin', 'products', ['pinyin'], unique=False)
    op.create_table('purchase_receipts',
    sa.Column('id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), autoincrement=True, nullable=False),
    sa.Column('supplier', sa.String(length=64), nullable=True),
    sa.Column('note', sa.String(length=255), nullable=True),
    sa.Column('total_cost', sa.BigInteger(), nullable=False),
    sa.Column('staff_id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), nullable=True),
    sa.Column('at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_purchase_receipts_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_receipts')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_table('stock_counts',
    sa.Column('id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), autoincrement=True, nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('note', sa.String(length=255), nullable=True),
    sa.Column('staff_id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), nullable=True),
    sa.Column('at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_stock_counts_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_counts')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_table('product_barcodes',
    sa.Column('barcode', sa.String(length=32), nullable=False),
    sa.Column('product_id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_product_barcodes_product_id_products')),
    sa.PrimaryKeyConstraint('barcode', name=op.f('pk_product_barcodes')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_index(op.f('ix_product_barcodes_product_id'), 'product_barcodes', ['product_id'], unique=False)
    op.create_table('purchase_receipt_lines',
    sa.Column('id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), autoincrement=True, nullable=False),
    sa.Column('receipt_id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), nullable=False),
    sa.Column('product_id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), nullable=False),
    sa.Column('qty', sa.BigInteger(), nullable=False),
    sa.Column('unit_cost', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_purchase_receipt_lines_product_id_products')),
    sa.ForeignKeyConstraint(['receipt_id'], ['purchase_receipts.id'], name=op.f('fk_purchase_receipt_lines_receipt_id_purchase_receipts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_receipt_lines')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_index(op.f('ix_purchase_receipt_lines_receipt_id'), 'purchase_receipt_lines', ['receipt_id'], unique=False)
    op.create_table('stock_count_lines',
    sa.Column('id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), autoincrement=True, nullable=False),
    sa.Column('count_id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), nullable=False),
    sa.Column('product_id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), nullable=False),
    sa.Column('expected', sa.BigInteger(), nullable=False),
    sa.Column('counted', sa.BigInteger(), nullable=False),
    sa.Column('difference', sa.BigInteger(), nullable=False),
    sa.Column('cost_difference', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['count_id'], ['stock_counts.id'], name=op.f('fk_stock_count_lines_count_id_stock_counts')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_stock_count_lines_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_count_lines')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_index(op.f('ix_stock_count_lines_count_id'), 'stock_count_lines', ['count_id'], unique=False)
    op.create_table('stock_ledger',
    sa.Column('id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), autoincrement=True, nullable=False),
    sa.Column('product_id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), nullable=False),
    sa.Column('change', sa.BigInteger(), nullable=False),
    sa.Column('balance_after', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('ref_type', sa.String(length=16), nullable=True),
    sa.Column('ref_id', sa.String(length=40), nullable=True),
    sa.Column('note', sa.String(length=255), nullable=True),
    sa.Column('staff_id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), nullable=True),
    sa.Column('at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_stock_ledger_product_id_products')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_stock_ledger_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_ledger')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_index('ix_stock_ledger_product_id_id', 'stock_ledger', ['product_id', 'id'], unique=False)
    op.create_index('ix_stock_ledger_ref', 'stock_ledger', ['ref_type', 'ref_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_stock_ledger_ref', table_name='stock_ledger')
    op.drop_index('ix_stock_ledger_product_id_id', table_name='stock_ledger')
    op.drop_table('stock_ledger')
    op.drop_index(op.f('ix_stock_count_lines_count_id'), table_name='stock_count_lines')
    op.drop_table('stock_count_lines')
    op.drop_index(op.f('ix_purchase_receipt_lines_receipt_id'), table_name='purchase_receipt_lines')
    op.drop_table('purchase_receipt_lines')
    op.drop_index(op.f('ix_product_barcodes_product_id'), table_name='product_barcodes')
    op.drop_table('product_barcodes')
    op.drop_table('stock_counts')
    op.drop_table('purchase_receipts')
    op.drop_index('ix_products_pinyin', table_name='products')
    op.drop_index('ix_products_name', table_name='products')
    op.drop_index('ix_products_category_id_active', table_name='products')
    op.drop_table('products')
    op.drop_table('categories')
