"""emoji reactions: custom emoji, reactions with custom emoji, peers' software

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    tz = sa.DateTime(timezone=True)
    op.create_table(
        "custom_emojis",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("shortcode", sa.String(64), nullable=False),
        sa.Column("domain", sa.String(255), nullable=False),
        sa.Column("image_path", sa.String(255), nullable=True),
        sa.Column("remote_url", sa.String(2048), nullable=True),
        sa.Column("uri", sa.String(2048), nullable=True),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("local_only", sa.Boolean(), nullable=False),
        sa.Column("visible_in_picker", sa.Boolean(), nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("updated_at", tz, nullable=False),
        sa.UniqueConstraint("shortcode", "domain", name="uq_custom_emojis_code"),
    )
    with op.batch_alter_table("reactions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("custom_emoji_id", sa.BigInteger(), nullable=True))
        batch_op.create_foreign_key(
            "fk_reactions_custom_emoji_id",
            "custom_emojis",
            ["custom_emoji_id"],
            ["id"],
            ondelete="CASCADE",
        )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("emoji", sa.String(255), nullable=True))
        batch_op.add_column(sa.Column("custom_emoji_id", sa.BigInteger(), nullable=True))
        batch_op.create_foreign_key(
            "fk_notifications_custom_emoji_id",
            "custom_emojis",
            ["custom_emoji_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("peer_domains", schema=None) as batch_op:
        batch_op.add_column(sa.Column("software", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("software_checked_at", tz, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("peer_domains", schema=None) as batch_op:
        batch_op.drop_column("software_checked_at")
        batch_op.drop_column("software")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint("fk_notifications_custom_emoji_id", type_="foreignkey")
        batch_op.drop_column("custom_emoji_id")
        batch_op.drop_column("emoji")
    with op.batch_alter_table("reactions", schema=None) as batch_op:
        batch_op.drop_constraint("fk_reactions_custom_emoji_id", type_="foreignkey")
        batch_op.drop_column("custom_emoji_id")
    op.drop_table("custom_emojis")
