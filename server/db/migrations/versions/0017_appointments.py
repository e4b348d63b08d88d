"""appointments (预约, #18 §1): service durations and group classes on products, bookable
staff and their weekly hours, members' no-show count, appointments and the booking locks

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-16 10:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql')
TS = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')
TABLE = dict(mysql_charset='utf8mb4', mysql_collate='utf8mb4_unicode_ci',
             mysql_engine='InnoDB')


def _fk(table: str, col: str, ref: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([col], [f'{ref}.id'], name=op.f(f'fk_{table}_{col}_{ref}'))


def upgrade() -> None:
    op.add_column('products', sa.Column('duration_minutes', sa.SmallInteger(), nullable=True))
    op.add_column('products', sa.Column('capacity', sa.SmallInteger(), nullable=True))
    op.add_column('products', sa.Column('class_start', sa.Time(), nullable=True))
    op.add_column('products', sa.Column('staff_ids', sa.JSON(), nullable=True))
    op.add_column('staff', sa.Column('bookable', sa.Boolean(), nullable=False,
                                     server_default='0'))
    op.add_column('staff', sa.Column('work_start', sa.Time(), nullable=True))
    op.add_column('staff', sa.Column('work_end', sa.Time(), nullable=True))
    op.add_column('staff', sa.Column('work_days', sa.SmallInteger(), nullable=False,
                                     server_default='127'))
    op.add_column('members', sa.Column('no_show_count', sa.Integer(), nullable=False,
                                       server_default='0'))
    t = 'appointments'
    op.create_table(
        t,
        sa.Column('id', BIGID, autoincrement=True, nullable=False),
        sa.Column('member_id', BIGID, nullable=True),
        sa.Column('customer_name', sa.String(length=64), nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=True),
        sa.Column('staff_id', BIGID, nullable=True),
        sa.Column('any_staff', sa.Boolean(), nullable=False),
        sa.Column('class_product_id', BIGID, nullable=True),
        sa.Column('services', sa.JSON(), nullable=False),
        sa.Column('starts_at', TS, nullable=False),
        sa.Column('ends_at', TS, nullable=False),
        sa.Column('business_date', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('note', sa.String(length=255), nullable=True),
        sa.Column('reason', sa.String(length=255), nullable=True),
        sa.Column('moves', sa.Integer(), nullable=False),
        sa.Column('checked_in_at', TS, nullable=True),
        sa.Column('closed_by', BIGID, nullable=True),
        sa.Column('created_by', BIGID, nullable=True),
        sa.Column('counter', sa.String(length=32), nullable=False),
        sa.Column('created_at', TS, nullable=False),
        sa.Column('updated_at', TS, nullable=False),
        _fk(t, 'member_id', 'members'), _fk(t, 'staff_id', 'staff'),
        _fk(t, 'class_product_id', 'products'), _fk(t, 'closed_by', 'staff'),
        _fk(t, 'created_by', 'staff'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_appointments')),
        **TABLE)
    op.create_index('ix_appointments_business_date_starts_at', t,
                    ['business_date', 'starts_at'])
    op.create_index('ix_appointments_staff_id_starts_at', t, ['staff_id', 'starts_at'])
    op.create_index('ix_appointments_class_product_id_starts_at', t,
                    ['class_product_id', 'starts_at'])
    op.create_index('ix_appointments_member_id_status', t, ['member_id', 'status'])
    op.create_table(
        'booking_locks',
        sa.Column('resource', sa.String(length=24), nullable=False),
        sa.Column('business_date', sa.Date(), nullable=False),
        sa.Column('writes', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('resource', 'business_date', name=op.f('pk_booking_locks')),
        **TABLE)


def downgrade() -> None:
    op.drop_table('booking_locks')
    op.drop_table('appointments')
    op.drop_column('members', 'no_show_count')
    for col in ('work_days', 'work_end', 'work_start', 'bookable'):
        op.drop_column('staff', col)
    for col in ('staff_ids', 'class_start', 'capacity', 'duration_minutes'):
        op.drop_column('products', col)
