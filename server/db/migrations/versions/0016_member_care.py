"""member care (会员关怀, #18 §4): indexes for the care lists — members whose stored value
runs low read ``ix_members_balances`` (migration 0014: two ranges of it, ordered by the
balance from the index alone), count cards running low or expiring soon
(``member_count_cards(status, remaining_uses)`` and ``(status, expires_at)``)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-15 12:00:00
"""

from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

INDEXES = (
    ('ix_member_count_cards_status_remaining_uses', 'member_count_cards',
     ['status', 'remaining_uses']),
    ('ix_member_count_cards_status_expires_at', 'member_count_cards', ['status', 'expires_at']),
)


def upgrade() -> None:
    for name, table, cols in INDEXES:
        op.create_index(name, table, cols)


def downgrade() -> None:
    for name, table, _cols in reversed(INDEXES):
        op.drop_index(name, table_name=table)
