"""birthday lists from one index: ``(active, birth_md)``, so counting this month's birthdays
reads the index alone (at 1M members, 83k entries instead of 83k member rows; #18 lists
< 1 s) and the pages come in birthday order from it

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 00:10:00
"""

from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_members_active_birth_md', 'members', ['active', 'birth_md'])


def downgrade() -> None:
    op.drop_index('ix_members_active_birth_md', table_name='members')
