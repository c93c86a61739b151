"""moderation: domain policies, allow-list, blocklist subscriptions, user blocks and mutes,
account limits/suspensions and warnings, reports, audit log, inbox rejection counts

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 18:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _account_fk(name: str, *, nullable: bool, ondelete: str = "CASCADE") -> sa.Column[int]:
    return sa.Column(
        name, sa.BigInteger(), sa.ForeignKey("accounts.id", ondelete=ondelete), nullable=nullable
    )


def upgrade() -> None:
    tz = sa.DateTime(timezone=True)
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("silenced_at", tz, nullable=True))
        batch_op.add_column(sa.Column("suspended_at", tz, nullable=True))
    with op.batch_alter_table("peer_domains", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_inbox_at", tz, nullable=True))
    op.create_index("ix_deliveries_finished", "deliveries", ["finished_at"])
    op.create_table(
        "blocklist_subscriptions",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("url", sa.String(2048), nullable=False, unique=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("refresh_hours", sa.Integer(), nullable=False),
        sa.Column("last_fetched_at", tz, nullable=True),
        sa.Column("next_fetch_at", tz, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("etag", sa.String(255), nullable=True),
        sa.Column("pending", sa.JSON(), nullable=True),
        sa.Column("created_at", tz, nullable=False),
    )
    op.create_table(
        "domain_policies",
        sa.Column("domain", sa.String(255), primary_key=True),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("reject_media", sa.Boolean(), nullable=False),
        sa.Column("reject_reports", sa.Boolean(), nullable=False),
        sa.Column("public_comment", sa.Text(), nullable=False),
        sa.Column("private_comment", sa.Text(), nullable=False),
        sa.Column("obfuscate", sa.Boolean(), nullable=False),
        sa.Column(
            "subscription_id",
            sa.BigInteger(),
            sa.ForeignKey("blocklist_subscriptions.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("purged_at", tz, nullable=True),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("updated_at", tz, nullable=False),
    )
    op.create_table(
        "allowed_domains",
        sa.Column("domain", sa.String(255), primary_key=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", tz, nullable=False),
    )
    op.create_table(
        "account_blocks",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        _account_fk("account_id", nullable=False),
        _account_fk("target_account_id", nullable=False),
        sa.Column("uri", sa.String(2048), nullable=True),
        sa.Column("created_at", tz, nullable=False),
        sa.UniqueConstraint("account_id", "target_account_id", name="uq_account_blocks"),
    )
    op.create_index("ix_account_blocks_target", "account_blocks", ["target_account_id"])
    op.create_table(
        "account_mutes",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        _account_fk("account_id", nullable=False),
        _account_fk("target_account_id", nullable=False),
        sa.Column("notifications", sa.Boolean(), nullable=False),
        sa.Column("expires_at", tz, nullable=True),
        sa.Column("created_at", tz, nullable=False),
        sa.UniqueConstraint("account_id", "target_account_id", name="uq_account_mutes"),
    )
    op.create_table(
        "account_domain_blocks",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        _account_fk("account_id", nullable=False),
        sa.Column("domain", sa.String(255), nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.UniqueConstraint("account_id", "domain", name="uq_account_domain_blocks"),
    )
    op.create_table(
        "reports",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        _account_fk("reporter_id", nullable=False),
        _account_fk("target_account_id", nullable=False),
        sa.Column("post_ids", sa.JSON(), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("uri", sa.String(2048), nullable=True, unique=True),
        sa.Column("origin_domain", sa.String(255), nullable=False),
        sa.Column("forward", sa.Boolean(), nullable=False),
        sa.Column("forwarded_at", tz, nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        _account_fk("assigned_id", nullable=True, ondelete="SET NULL"),
        sa.Column("action_taken", sa.String(32), nullable=True),
        _account_fk("resolved_by_id", nullable=True, ondelete="SET NULL"),
        sa.Column("resolved_at", tz, nullable=True),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("updated_at", tz, nullable=False),
    )
    op.create_index("ix_reports_state", "reports", ["state", "id"])
    op.create_index("ix_reports_target_account_id", "reports", ["target_account_id"])
    op.create_table(
        "report_notes",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "report_id",
            sa.BigInteger(),
            sa.ForeignKey("reports.id", ondelete="CASCADE"),
            nullable=False,
        ),
        _account_fk("account_id", nullable=True, ondelete="SET NULL"),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", tz, nullable=False),
    )
    op.create_index("ix_report_notes_report_id", "report_notes", ["report_id"])
    op.create_table(
        "account_warnings",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        _account_fk("account_id", nullable=False),
        _account_fk("moderator_id", nullable=True, ondelete="SET NULL"),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "report_id",
            sa.BigInteger(),
            sa.ForeignKey("reports.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("created_at", tz, nullable=False),
    )
    op.create_index("ix_account_warnings_account_id", "account_warnings", ["account_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        _account_fk("account_id", nullable=True, ondelete="SET NULL"),
        sa.Column("action", sa.String(48), nullable=False),
        sa.Column("target_type", sa.String(32), nullable=False),
        sa.Column("target", sa.String(2048), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("created_at", tz, nullable=False),
    )
    op.create_index("ix_audit_log_created_at", "audit_log", ["created_at"])
    op.create_table(
        "inbox_rejections",
        sa.Column("bucket", tz, primary_key=True),
        sa.Column("domain", sa.String(255), primary_key=True),
        sa.Column("reason", sa.String(32), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "inbox_rejections",
        "audit_log",
        "account_warnings",
        "report_notes",
        "reports",
        "account_domain_blocks",
        "account_mutes",
        "account_blocks",
        "allowed_domains",
        "domain_policies",
        "blocklist_subscriptions",
    ):
        op.drop_table(table)
    op.drop_index("ix_deliveries_finished", table_name="deliveries")
    with op.batch_alter_table("peer_domains", schema=None) as batch_op:
        batch_op.drop_column("last_inbox_at")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("suspended_at")
        batch_op.drop_column("silenced_at")
