"""a partial index of suspended accounts: every timeline query leaves them out

Without it, each timeline query read the whole accounts table for repo.NOT_SUSPENDED (about
1 ms per query at 10,000 accounts, on SQLite and PostgreSQL alike).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 21:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUSPENDED = sa.text("suspended_at IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "ix_accounts_suspended",
        "accounts",
        ["suspended_at"],
        sqlite_where=SUSPENDED,
        postgresql_where=SUSPENDED,
    )


def downgrade() -> None:
    op.drop_index("ix_accounts_suspended", table_name="accounts")
