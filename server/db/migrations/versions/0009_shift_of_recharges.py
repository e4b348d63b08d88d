"""shift of recharges and count-card sales: the counter's open shift they were paid into

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 13:40:00
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

TABLES = ('stored_value_ledger', 'member_count_cards')


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column(
            'shift_id', sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql'), nullable=True))
        op.create_foreign_key(op.f(f'fk_{table}_shift_id_shifts'), table, 'shifts',
                              ['shift_id'], ['id'])
        op.create_index(f'ix_{table}_shift_id', table, ['shift_id'], unique=False)


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f'ix_{table}_shift_id', table_name=table)
        op.drop_constraint(op.f(f'fk_{table}_shift_id_shifts'), table, type_='foreignkey')
        op.drop_column(table, 'shift_id')
