"""Instance-wide settings an admin changes at run time (kept in the database)."""

from __future__ import annotations

import secrets
from enum import StrEnum

from kizuna.errors import ValidationError
from kizuna.storage import repo
from kizuna.storage.engine import Database


class Registrations(StrEnum):
    OPEN = "open"
    APPROVAL = "approval"
    CLOSED = "closed"


DEFAULT_REGISTRATIONS = Registrations.APPROVAL


class SettingsService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def secret(self) -> str:
        """The signing secret, generated once and shared by every process on this database."""
        async with self.db.begin() as session:
            return await repo.setting_or_insert(session, "secret", secrets.token_urlsafe(48))

    async def registrations(self) -> Registrations:
        async with self.db.begin() as session:
            value = await repo.get_setting(session, "registrations")
        try:
            return Registrations(value) if value else DEFAULT_REGISTRATIONS
        except ValueError:
            return DEFAULT_REGISTRATIONS

    async def set_registrations(self, value: str) -> Registrations:
        try:
            mode = Registrations(value)
        except ValueError:
            raise ValidationError(
                "registrations must be open, approval or closed", field="registrations"
            ) from None
        async with self.db.begin() as session:
            await repo.set_setting(session, "registrations", mode.value)
        return mode

    async def site_name(self, default: str) -> str:
        async with self.db.begin() as session:
            return await repo.get_setting(session, "site_name") or default

    async def site_description(self) -> str:
        async with self.db.begin() as session:
            return await repo.get_setting(session, "site_description") or ""

    async def set_site(self, *, name: str, description: str) -> None:
        name, description = name.strip(), description.strip()
        if len(name) > 60:
            raise ValidationError("the server name is at most 60 characters", field="site_name")
        if len(description) > 500:
            raise ValidationError(
                "the description is at most 500 characters", field="site_description"
            )
        async with self.db.begin() as session:
            await repo.set_setting(session, "site_name", name)
            await repo.set_setting(session, "site_description", description)

    async def authorized_fetch(self) -> bool:
        """Mastodon's secure mode: objects and collections only for signed requests."""
        async with self.db.begin() as session:
            return await repo.get_setting(session, "authorized_fetch") == "1"

    async def set_authorized_fetch(self, enabled: bool) -> None:
        async with self.db.begin() as session:
            await repo.set_setting(session, "authorized_fetch", "1" if enabled else "0")
