"""personal data and logins: members.anonymised_at (注销会员), staff.failed_since (the
lockout window of an account's failed logins), login_throttle (failed logins per client
address)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-10 10:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

TS = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')
TABLE = dict(mysql_charset='utf8mb4', mysql_collate='utf8mb4_unicode_ci',
             mysql_engine='InnoDB')


def upgrade() -> None:
    op.add_column('members', sa.Column('anonymised_at', TS, nullable=True))
    op.add_column('staff', sa.Column('failed_since', TS, nullable=True))
    op.create_table(
        'login_throttle',
        sa.Column('ip', sa.String(length=45), nullable=False),
        sa.Column('failures', sa.JSON(), nullable=False),
        sa.Column('updated_at', TS, nullable=False),
        sa.PrimaryKeyConstraint('ip', name=op.f('pk_login_throttle')),
        **TABLE)


def downgrade() -> None:
    op.drop_table('login_throttle')
    op.drop_column('staff', 'failed_since')
    op.drop_column('members', 'anonymised_at')
