"""product favourites: products.favourite (收银台常用) and favourite_order, for the counter's
touch grid

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('products', sa.Column('favourite', sa.Boolean(), nullable=False,
                                        server_default=sa.false()))
    op.add_column('products', sa.Column('favourite_order', sa.Integer(), nullable=False,
                                        server_default='0'))
    op.create_index('ix_products_favourite', 'products', ['favourite', 'favourite_order'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_products_favourite', table_name='products')
    op.drop_column('products', 'favourite_order')
    op.drop_column('products', 'favourite')
