"""remote actors and profile fields

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 07:34:15.654027
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fields", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("header_path", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("header_remote_url", sa.String(length=2048), nullable=True))
        batch_op.add_column(sa.Column("outbox_url", sa.String(length=2048), nullable=True))
        batch_op.add_column(sa.Column("followers_url", sa.String(length=2048), nullable=True))
        batch_op.add_column(sa.Column("following_url", sa.String(length=2048), nullable=True))
        batch_op.add_column(sa.Column("featured_url", sa.String(length=2048), nullable=True))
        batch_op.add_column(sa.Column("public_key_id", sa.String(length=2048), nullable=True))
        batch_op.add_column(sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("fetched_at")
        batch_op.drop_column("public_key_id")
        batch_op.drop_column("featured_url")
        batch_op.drop_column("following_url")
        batch_op.drop_column("followers_url")
        batch_op.drop_column("outbox_url")
        batch_op.drop_column("header_remote_url")
        batch_op.drop_column("header_path")
        batch_op.drop_column("fields")
