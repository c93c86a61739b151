"""Instance-wide settings an admin changes at run time (kept in the database).

Every change an admin makes is written to the audit log in the same transaction."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from kizuna.errors import ValidationError
from kizuna.storage import audit, repo
from kizuna.storage.engine import Database, Session
from kizuna.storage.models import Account


class Registrations(StrEnum):
    OPEN = "open"
    APPROVAL = "approval"
    CLOSED = "closed"


DEFAULT_REGISTRATIONS = Registrations.APPROVAL

MAX_SITE_NAME, MAX_SITE_DESCRIPTION = 60, 500
MAX_RULES, MAX_RULE = 30, 300  # Mastodon's rule text is at most 300 characters too
MAX_EMAIL = 254
# Enough to catch a typo (the HTML5 input's own rule, plus a dot in the domain); whether
# mail arrives is the admin's to check.
EMAIL_RE = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?\.[A-Za-z]{2,63}"
)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteInfo:
    """What /about shows, and NodeInfo's name and description."""

    name: str = ""  # "": the domain
    description: str = ""
    rules: tuple[str, ...] = ()  # in order
    contact_account: str = ""  # a local user name, as stored
    contact_email: str = ""


class SettingsService:
    def __init__(self, db: Database, clock: Callable[[], datetime] = _utcnow) -> None:
        self.db = db
        self.clock = clock

    async def _audit(
        self, session: Session, by: Account | None, what: str, before: Any, after: Any
    ) -> None:
        if before == after:
            return
        await audit.record(
            session,
            account_id=by.id if by is not None else None,
            action=f"settings.{what}",
            target_type="setting",
            target=what,
            now=self.clock(),
            data={"before": before, "after": after},
        )

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

    async def set_registrations(self, value: str, *, by: Account | None = None) -> Registrations:
        try:
            mode = Registrations(value)
        except ValueError:
            raise ValidationError(
                "registrations must be open, approval or closed", field="registrations"
            ) from None
        async with self.db.begin() as session:
            before = await repo.get_setting(session, "registrations") or DEFAULT_REGISTRATIONS
            await repo.set_setting(session, "registrations", mode.value)
            await self._audit(session, by, "registrations", before, mode.value)
        return mode

    async def site_name(self, default: str) -> str:
        async with self.db.begin() as session:
            return await repo.get_setting(session, "site_name") or default

    async def site_description(self) -> str:
        async with self.db.begin() as session:
            return await repo.get_setting(session, "site_description") or ""

    async def site(self) -> SiteInfo:
        async with self.db.begin() as session:
            return await self._site(session)

    async def _site(self, session: Session) -> SiteInfo:
        values = {
            key: await repo.get_setting(session, f"site_{key}") or ""
            for key in ("name", "description", "rules", "contact_account", "contact_email")
        }
        try:
            rules = json.loads(values["rules"]) if values["rules"] else []
        except ValueError:
            rules = []
        return SiteInfo(
            name=values["name"],
            description=values["description"],
            rules=tuple(r for r in rules if isinstance(r, str)),
            contact_account=values["contact_account"],
            contact_email=values["contact_email"],
        )

    async def set_site(self, info: SiteInfo, *, by: Account | None = None) -> SiteInfo:
        """Checked whole before anything is written; returns what was stored."""
        name, description = info.name.strip(), info.description.strip().replace("\r\n", "\n")
        if len(name) > MAX_SITE_NAME:
            raise ValidationError(
                f"the server name is at most {MAX_SITE_NAME} characters", field="site_name"
            )
        if len(description) > MAX_SITE_DESCRIPTION:
            raise ValidationError(
                f"the description is at most {MAX_SITE_DESCRIPTION} characters",
                field="site_description",
            )
        rules = tuple(" ".join(r.split()) for r in info.rules if r.strip())
        if len(rules) > MAX_RULES:
            raise ValidationError(f"at most {MAX_RULES} rules", field="site_rules")
        if any(len(r) > MAX_RULE for r in rules):
            raise ValidationError(f"each rule is at most {MAX_RULE} characters", field="site_rules")
        email = info.contact_email.strip()
        if email and (len(email) > MAX_EMAIL or not EMAIL_RE.fullmatch(email)):
            raise ValidationError(
                "the contact e-mail address is not one (name@example.org)", field="contact_email"
            )
        wanted = info.contact_account.strip().removeprefix("@")
        async with self.db.begin() as session:
            contact = ""
            if wanted:
                user = await repo.get_user_by_username(session, wanted.casefold())
                if user is None:
                    raise ValidationError(
                        f"there is no user named {wanted!r} here", field="contact_account"
                    )
                contact = user.account.username
            stored = SiteInfo(
                name=name,
                description=description,
                rules=rules,
                contact_account=contact,
                contact_email=email,
            )
            before = await self._site(session)
            for key, value in asdict(stored).items():
                text = json.dumps(list(value), ensure_ascii=False) if key == "rules" else value
                await repo.set_setting(session, f"site_{key}", text)
            await self._audit(
                session, by, "site", _changed(before, stored), _changed(stored, before)
            )
        return stored

    async def authorized_fetch(self) -> bool:
        """Mastodon's secure mode: objects and collections only for signed requests."""
        async with self.db.begin() as session:
            return await repo.get_setting(session, "authorized_fetch") == "1"

    async def set_authorized_fetch(self, enabled: bool, *, by: Account | None = None) -> None:
        async with self.db.begin() as session:
            before = await repo.get_setting(session, "authorized_fetch") == "1"
            await repo.set_setting(session, "authorized_fetch", "1" if enabled else "0")
            await self._audit(session, by, "authorized_fetch", before, enabled)


def _changed(info: SiteInfo, other: SiteInfo) -> dict[str, Any]:
    """The fields of `info` that differ from `other` (what an audit entry needs to show)."""
    theirs = asdict(other)
    return {
        key: list(value) if isinstance(value, tuple) else value
        for key, value in asdict(info).items()
        if value != theirs[key]
    }
