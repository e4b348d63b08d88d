"""attendance (考勤, #18 §2): staff.pin_hash (a PIN to clock in with), planned shifts
(attendance_plans), clock punches (attendance_punches, append-only) and managers' corrections
(attendance_corrections, append-only)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-15 10:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(mysql.BIGINT(), 'mysql')
TS = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')
TABLE = dict(mysql_charset='utf8mb4', mysql_collate='utf8mb4_unicode_ci',
             mysql_engine='InnoDB')


def _fk(table: str, col: str, ref: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([col], [f'{ref}.id'], name=op.f(f'fk_{table}_{col}_{ref}'))


def upgrade() -> None:
    op.add_column('staff', sa.Column('pin_hash', sa.String(length=255), nullable=True))
    t = 'attendance_plans'
    op.create_table(
        t,
        sa.Column('id', BIGID, autoincrement=True, nullable=False),
        sa.Column('staff_id', BIGID, nullable=False),
        sa.Column('business_date', sa.Date(), nullable=False),
        sa.Column('start', sa.Time(), nullable=False),
        sa.Column('end', sa.Time(), nullable=False),
        sa.Column('break_minutes', sa.SmallInteger(), nullable=False),
        sa.Column('note', sa.String(length=64), nullable=True),
        sa.Column('created_by', BIGID, nullable=True),
        sa.Column('created_at', TS, nullable=False),
        sa.Column('updated_at', TS, nullable=False),
        _fk(t, 'staff_id', 'staff'), _fk(t, 'created_by', 'staff'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance_plans')),
        sa.UniqueConstraint('staff_id', 'business_date',
                            name=op.f('uq_attendance_plans_staff_id_business_date')),
        **TABLE)
    op.create_index('ix_attendance_plans_business_date', t, ['business_date'])
    t = 'attendance_punches'
    op.create_table(
        t,
        sa.Column('id', BIGID, autoincrement=True, nullable=False),
        sa.Column('staff_id', BIGID, nullable=False),
        sa.Column('business_date', sa.Date(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('at', TS, nullable=False),
        sa.Column('counter', sa.String(length=32), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('recorded_by', BIGID, nullable=True),
        sa.Column('created_at', TS, nullable=False),
        _fk(t, 'staff_id', 'staff'), _fk(t, 'recorded_by', 'staff'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance_punches')),
        **TABLE)
    op.create_index('ix_attendance_punches_staff_id_business_date', t,
                    ['staff_id', 'business_date'])
    op.create_index('ix_attendance_punches_business_date', t, ['business_date'])
    t = 'attendance_corrections'
    op.create_table(
        t,
        sa.Column('id', BIGID, autoincrement=True, nullable=False),
        sa.Column('staff_id', BIGID, nullable=False),
        sa.Column('business_date', sa.Date(), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('replaces_id', BIGID, nullable=True),
        sa.Column('punch_id', BIGID, nullable=True),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('before_at', TS, nullable=True),
        sa.Column('after_at', TS, nullable=True),
        sa.Column('reason', sa.String(length=255), nullable=False),
        sa.Column('by_staff_id', BIGID, nullable=True),
        sa.Column('at', TS, nullable=False),
        _fk(t, 'staff_id', 'staff'), _fk(t, 'by_staff_id', 'staff'),
        sa.ForeignKeyConstraint(['replaces_id'], ['attendance_punches.id'],
                                name=op.f('fk_attendance_corrections_replaces_id_attendance_punches')),
        sa.ForeignKeyConstraint(['punch_id'], ['attendance_punches.id'],
                                name=op.f('fk_attendance_corrections_punch_id_attendance_punches')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance_corrections')),
        sa.UniqueConstraint('replaces_id', name=op.f('uq_attendance_corrections_replaces_id')),
        **TABLE)
    op.create_index('ix_attendance_corrections_staff_id_business_date', t,
                    ['staff_id', 'business_date'])


def downgrade() -> None:
    op.drop_table('attendance_corrections')
    op.drop_table('attendance_punches')
    op.drop_table('attendance_plans')
    op.drop_column('staff', 'pin_hash')
