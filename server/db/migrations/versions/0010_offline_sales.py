"""offline sales: sales.origin and offline_number, the offline_differences review list, the
catalogue version (catalog_state, products.changed_seq) counters sync their copy by

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 10:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql')
TS = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')
TABLE = dict(mysql_charset='utf8mb4', mysql_collate='utf8mb4_unicode_ci',
             mysql_engine='InnoDB')


def upgrade() -> None:
    op.add_column('sales', sa.Column('origin', sa.String(length=8), nullable=False,
                                     server_default='counter'))
    op.add_column('sales', sa.Column('offline_number', sa.String(length=24), nullable=True))
    op.create_index('ix_sales_origin_id', 'sales', ['origin', 'id'], unique=False)
    op.create_table(
        'offline_differences',
        sa.Column('id', BIGID, autoincrement=True, nullable=False),
        sa.Column('sale_id', BIGID, nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('line_no', sa.SmallInteger(), nullable=True),
        sa.Column('product_id', BIGID, nullable=True),
        sa.Column('counter_amount', sa.BigInteger(), nullable=True),
        sa.Column('server_amount', sa.BigInteger(), nullable=True),
        sa.Column('message', sa.String(length=255), nullable=False),
        sa.Column('created_at', TS, nullable=False),
        sa.ForeignKeyConstraint(['product_id'], ['products.id'],
                                name=op.f('fk_offline_differences_product_id_products')),
        sa.ForeignKeyConstraint(['sale_id'], ['sales.id'],
                                name=op.f('fk_offline_differences_sale_id_sales')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_offline_differences')),
        **TABLE)
    op.create_index('ix_offline_differences_sale_id', 'offline_differences', ['sale_id'],
                    unique=False)
    op.create_index('ix_offline_differences_created_at', 'offline_differences',
                    ['created_at'], unique=False)
    op.add_column('products', sa.Column('changed_seq', sa.BigInteger(), nullable=False,
                                        server_default='0'))
    op.create_index('ix_products_changed_seq', 'products', ['changed_seq'], unique=False)
    op.create_table(
        'catalog_state',
        sa.Column('id', sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_state')),
        **TABLE)
    # every product as of now is version 1: a counter's first sync (since absent) is full
    op.execute("INSERT INTO catalog_state (id, version) VALUES (1, 1)")
    op.execute("UPDATE products SET changed_seq = 1")


def downgrade() -> None:
    op.drop_table('catalog_state')
    op.drop_index('ix_products_changed_seq', table_name='products')
    op.drop_column('products', 'changed_seq')
    op.drop_index('ix_offline_differences_created_at', table_name='offline_differences')
    op.drop_index('ix_offline_differences_sale_id', table_name='offline_differences')
    op.drop_table('offline_differences')
    op.drop_index('ix_sales_origin_id', table_name='sales')
    op.drop_column('sales', 'offline_number')
    op.drop_column('sales', 'origin')
