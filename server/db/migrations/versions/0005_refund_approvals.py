"""refund approvals

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 09:23:08.260151
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('refunds', sa.Column('approved_by', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), nullable=True))
    op.create_foreign_key(op.f('fk_refunds_approved_by_staff'), 'refunds', 'staff', ['approved_by'], ['id'])


def downgrade() -> None:
    op.drop_constraint(op.f('fk_refunds_approved_by_staff'), 'refunds', type_='foreignkey')
    op.drop_column('refunds', 'approved_by')
