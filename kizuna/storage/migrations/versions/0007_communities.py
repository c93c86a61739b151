"""communities: Group accounts' settings, roles, bans, moderation log; posts in communities

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _account_fk(
    name: str, *, primary_key: bool = False, nullable: bool = False
) -> "sa.Column[int]":
    ondelete = "SET NULL" if nullable else "CASCADE"
    return sa.Column(
        name,
        sa.BigInteger(),
        sa.ForeignKey("accounts.id", ondelete=ondelete),
        primary_key=primary_key,
        nullable=nullable,
    )


def upgrade() -> None:
    tz = sa.DateTime(timezone=True)
    op.create_table(
        "communities",
        _account_fk("account_id", primary_key=True),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("posting_restricted", sa.Boolean(), nullable=False),
        _account_fk("created_by_id", nullable=True),
        sa.Column("last_post_at", tz, nullable=True),
        sa.Column("created_at", tz, nullable=False),
    )
    op.create_index("ix_communities_last_post_at", "communities", ["last_post_at"])
    op.create_table(
        "community_roles",
        _account_fk("community_id", primary_key=True),
        _account_fk("account_id", primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", tz, nullable=False),
    )
    op.create_index("ix_community_roles_account_id", "community_roles", ["account_id"])
    op.create_table(
        "community_bans",
        _account_fk("community_id", primary_key=True),
        _account_fk("account_id", primary_key=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("uri", sa.String(2048), nullable=True),
        sa.Column("created_at", tz, nullable=False),
    )
    op.create_table(
        "community_moderation_log",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        _account_fk("community_id"),
        _account_fk("moderator_id", nullable=True),
        sa.Column("action", sa.String(32), nullable=False),
        _account_fk("target_account_id", nullable=True),
        sa.Column("post_uri", sa.String(2048), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", tz, nullable=False),
    )
    op.create_index(
        "ix_community_moderation_log", "community_moderation_log", ["community_id", "id"]
    )
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("community_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("pinned_at", tz, nullable=True))
        batch_op.create_foreign_key(
            "fk_posts_community_id", "accounts", ["community_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_index("ix_posts_community_id_id", ["community_id", "id"])
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("community_feed_every", sa.Integer(), nullable=False, server_default="5")
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("community_feed_every")
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_index("ix_posts_community_id_id")
        batch_op.drop_constraint("fk_posts_community_id", type_="foreignkey")
        batch_op.drop_column("pinned_at")
        batch_op.drop_column("community_id")
    op.drop_table("community_moderation_log")
    op.drop_table("community_bans")
    op.drop_table("community_roles")
    op.drop_index("ix_communities_last_post_at", table_name="communities")
    op.drop_table("communities")
