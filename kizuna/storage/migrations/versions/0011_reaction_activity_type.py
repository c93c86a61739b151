"""the type a reaction came in as (Like or EmojiReact), so the reactions collection keeps it

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 18:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reactions") as batch:
        batch.add_column(sa.Column("activity_type", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reactions") as batch:
        batch.drop_column("activity_type")
