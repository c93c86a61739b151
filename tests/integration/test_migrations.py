"""The Alembic migrations produce exactly the schema the models describe, on both backends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from kizuna.storage.engine import Database, make_engine, migrate
from kizuna.storage.models import Base


async def test_migrations__match_models(db: Database) -> None:
    def diff(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with db.engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_migrations__old_install_upgrades_and_keeps_rows(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await migrate(engine, "0001")
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO accounts (id, username, username_key, domain, uri, actor_type,"
                    " display_name, note, note_html, locked, discoverable, created_at, updated_at)"
                    " VALUES (1, 'old', 'old', '', 'https://x.test/users/old', 'Person', '', '',"
                    " '', 0, 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                )
            )
        await migrate(engine)
        async with engine.connect() as conn:
            row = (
                await conn.execute(text("SELECT username, public_key_id, fields FROM accounts"))
            ).one()
        assert tuple(row) == ("old", None, None)
    finally:
        await engine.dispose()
