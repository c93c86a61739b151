"""Local accounts: sign-up, log-in sessions, profiles, approval."""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from kizuna.activitypub.ids import ActorUrls, instance_urls, tag_url, user_urls
from kizuna.activitypub.text import render_plain
from kizuna.activitypub.vocab import ActorType
from kizuna.clock import utcnow
from kizuna.config import Config
from kizuna.errors import NotFoundError, PermissionDeniedError, ValidationError
from kizuna.outbox.outbox import Outbox
from kizuna.passwords import generate_password, verify_password
from kizuna.services.media import AVATAR, HEADER, MediaStore
from kizuna.services.settings import Registrations, SettingsService
from kizuna.storage import repo
from kizuna.storage.engine import Database
from kizuna.storage.models import Account, LoginSession, User
from kizuna.storage.states import Role

USERNAME_RE = re.compile(r"[A-Za-z0-9_]{1,30}")
# Names that would read as the instance itself, or collide with later actor paths.
RESERVED_USERNAMES = frozenset(
    {
        "about",
        "actor",
        "api",
        "c",
        "inbox",
        "instance",
        "media",
        "nodeinfo",
        "postmaster",
        "public",
        "root",
        "settings",
        "static",
        "support",
        "tags",
        "users",
        "webmaster",
    }
)
MIN_PASSWORD, MAX_PASSWORD = 8, 128
MAX_DISPLAY_NAME, MAX_BIO = 30, 500
SESSION_LIFETIME = timedelta(days=30)
MAX_FIELDS, MAX_FIELD_CHARS = 4, 255


@dataclass(frozen=True, slots=True, kw_only=True)
class ProfileUpdate:
    display_name: str = ""
    note: str = ""
    locked: bool = False
    fields: Sequence[tuple[str, str]] = ()
    avatar: bytes | None = None
    header: bytes | None = None


def set_actor_urls(account: Account, urls: ActorUrls) -> None:
    account.uri = urls.id
    account.url = urls.profile
    account.inbox_url = urls.inbox
    account.shared_inbox_url = urls.shared_inbox
    account.outbox_url = urls.outbox
    account.followers_url = urls.followers
    account.following_url = urls.following
    account.featured_url = urls.featured
    account.public_key_id = urls.key_id


def session_id_for(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def validate_username(username: str) -> str:
    if not USERNAME_RE.fullmatch(username):
        raise ValidationError(
            "user names are 1-30 letters (a-z), digits or underscores", field="username"
        )
    if username.casefold() in RESERVED_USERNAMES:
        raise ValidationError(f"the user name {username!r} is reserved", field="username")
    return username


def validate_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValidationError(
            f"passwords are {MIN_PASSWORD} to {MAX_PASSWORD} characters", field="password"
        )
    return password


@dataclass(frozen=True, slots=True, kw_only=True)
class SignUpResult:
    user: User
    approved: bool


class AccountService:
    def __init__(
        self,
        db: Database,
        config: Config,
        settings: SettingsService,
        media: MediaStore,
        outbox: Outbox | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.config = config
        self.settings = settings
        self.media = media
        self.outbox = outbox  # None where nothing federates (the CLI's account commands)
        self.clock = clock

    async def create_user(
        self,
        username: str,
        password: str,
        *,
        role: str = Role.USER,
        approved: bool = True,
        reason: str = "",
    ) -> User:
        validate_username(username)
        if username.casefold() == self.config.domain:
            raise ValidationError(f"the user name {username!r} is reserved", field="username")
        validate_password(password)
        # Both are CPU-bound (~0.1 s each): keep the event loop free.
        keys = await asyncio.to_thread(self.config.key_source)
        password_hash = await asyncio.to_thread(self.config.password_hasher, password)
        now = self.clock()
        account = Account(
            username=username,
            username_key=username.casefold(),
            domain="",
            public_key_pem=keys.public_pem,
            private_key_pem=keys.private_pem,
            created_at=now,
            updated_at=now,
        )
        set_actor_urls(account, user_urls(self.config.base_url, username))
        user = User(
            password_hash=password_hash,
            role=Role(role),
            approved=approved,
            sign_up_reason=reason,
            created_at=now,
        )
        async with self.db.begin() as session:
            await repo.add_local_account(session, account, user)
        user.account = account
        return user

    async def sign_up(self, username: str, password: str, *, reason: str = "") -> SignUpResult:
        mode = await self.settings.registrations()
        if mode is Registrations.CLOSED:
            raise PermissionDeniedError("this server is not accepting new accounts")
        approved = mode is Registrations.OPEN
        user = await self.create_user(username, password, approved=approved, reason=reason)
        return SignUpResult(user=user, approved=approved)

    async def authenticate(self, username: str, password: str) -> User:
        async with self.db.begin() as session:
            user = await repo.get_user_by_username(session, username.strip().casefold())
        # Hash even for unknown names so timing does not tell which names exist.
        encoded = user.password_hash if user else self.config.password_hasher("x")
        ok = await asyncio.to_thread(verify_password, password, encoded)
        if user is None or not ok:
            raise ValidationError("wrong user name or password", field="password")
        if not user.approved:
            raise PermissionDeniedError("your account is waiting for an administrator's approval")
        return user

    async def start_session(self, user: User, *, user_agent: str = "") -> str:
        token = secrets.token_urlsafe(32)
        now = self.clock()
        async with self.db.begin() as session:
            await repo.delete_expired_sessions(session, now)
            await repo.add_login_session(
                session,
                LoginSession(
                    id=session_id_for(token),
                    user_id=user.id,
                    created_at=now,
                    expires_at=now + SESSION_LIFETIME,
                    user_agent=user_agent[:255],
                ),
            )
            db_user = await repo.get_user(session, user.id)
            if db_user is not None:
                db_user.last_login_at = now
        return token

    async def user_for_session(self, token: str) -> User | None:
        async with self.db.begin() as session:
            user = await repo.get_login_session_user(session, session_id_for(token), self.clock())
        return user if user is not None and user.approved else None

    async def end_session(self, token: str) -> None:
        async with self.db.begin() as session:
            await repo.delete_login_session(session, session_id_for(token))

    async def update_profile(self, account_id: int, update: ProfileUpdate) -> None:
        display_name = update.display_name.strip()
        note = update.note.strip().replace("\r\n", "\n")
        if len(display_name) > MAX_DISPLAY_NAME:
            raise ValidationError(
                f"display names are at most {MAX_DISPLAY_NAME} characters", field="display_name"
            )
        if len(note) > MAX_BIO:
            raise ValidationError(f"a bio is at most {MAX_BIO} characters", field="note")
        fields = self._fields(update.fields)
        saved: dict[str, str] = {}
        try:
            for folder, data, rules, field in (
                ("avatars", update.avatar, AVATAR, "avatar"),
                ("headers", update.header, HEADER, "header"),
            ):
                if data:
                    saved[folder] = await self.media.save(
                        folder, str(account_id), data, rules, field=field
                    )
            async with self.db.begin() as session:
                account = await session.get(Account, account_id)
                if account is None:
                    raise NotFoundError("no such account")
                account.display_name = display_name
                account.note = note
                account.note_html = self._html(note)
                account.fields = fields
                account.locked = update.locked
                replaced = [
                    account.avatar_path if "avatars" in saved else None,
                    account.header_path if "headers" in saved else None,
                ]
                account.avatar_path = saved.get("avatars", account.avatar_path)
                account.header_path = saved.get("headers", account.header_path)
                account.updated_at = self.clock()
                if self.outbox is not None:
                    await self.outbox.send_update_actor(session, account)
        except BaseException:
            for path in saved.values():  # nothing half-written: drop the new files
                await self.media.remove(path)
            raise
        for old in replaced:
            await self.media.remove(old)

    def _html(self, text: str) -> str:
        base = self.config.base_url
        return render_plain(text, mention_urls={}, tag_url=lambda t: tag_url(base, t))

    def _fields(self, pairs: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
        kept = [(n.strip(), v.strip()) for n, v in pairs if n.strip() or v.strip()]
        if len(kept) > MAX_FIELDS:
            raise ValidationError(f"at most {MAX_FIELDS} profile fields", field="fields")
        result = []
        for name, value in kept:
            if not name or len(name) > MAX_FIELD_CHARS or len(value) > MAX_FIELD_CHARS:
                raise ValidationError(
                    f"each profile field needs a label; both parts are at most "
                    f"{MAX_FIELD_CHARS} characters",
                    field="fields",
                )
            # One line each: the paragraph wrapper Mastodon's field values do not have.
            html = self._html(" ".join(value.split()))
            html = html.removeprefix("<p>").removesuffix("</p>")
            result.append({"name": name, "value": value, "value_html": html})
        return result

    async def instance_actor(self) -> Account:
        """The instance's own Application actor (signs fetches), created on first use."""
        domain = self.config.domain
        async with self.db.begin() as session:
            found = await repo.get_account_by_uri(session, instance_urls(self.config.base_url).id)
        if found is not None:
            return found
        keys = await asyncio.to_thread(self.config.key_source)
        now = self.clock()
        account = Account(
            username=domain,
            username_key=domain.casefold(),
            domain="",
            actor_type=ActorType.APPLICATION,
            public_key_pem=keys.public_pem,
            private_key_pem=keys.private_pem,
            locked=True,
            discoverable=False,
            created_at=now,
            updated_at=now,
        )
        set_actor_urls(account, instance_urls(self.config.base_url))
        async with self.db.begin() as session:
            return await repo.add_account(session, account)

    async def ensure_admin(self, username: str = "admin") -> tuple[str, str] | None:
        """Create an admin with a generated password unless one exists; returns (name, password)."""
        async with self.db.begin() as session:
            if await repo.count_admins(session):
                return None
            taken = await repo.username_taken(session, username.casefold())
        name = f"{username}_{secrets.token_hex(2)}" if taken else username
        password = generate_password()
        await self.create_user(name, password, role=Role.ADMIN)
        return name, password

    async def set_password(self, username: str, password: str) -> str:
        """An admin's reset (the CLI): every session of the user ends, as after a
        compromise. Returns the user name as stored."""
        validate_password(password)
        encoded = await asyncio.to_thread(self.config.password_hasher, password)
        async with self.db.begin() as session:
            user = await repo.get_user_by_username(session, username.casefold())
            if user is None:
                raise NotFoundError(f"no local user named {username!r}")
            user.password_hash = encoded
            await repo.delete_user_sessions(session, user.id)
            return user.account.username

    async def change_password(
        self, user_id: int, current: str, new: str, *, keep_session: str
    ) -> None:
        """The user's own change: the current password first. Their other sessions end and
        the one making the change (token `keep_session`) stays, as Mastodon does."""
        async with self.db.begin() as session:
            user = await repo.get_user(session, user_id)
        if user is None:
            raise NotFoundError("no such user")
        verified = user.password_hash
        if not await asyncio.to_thread(verify_password, current, verified):
            raise ValidationError("your current password is wrong", field="current_password")
        validate_password(new)
        encoded = await asyncio.to_thread(self.config.password_hasher, new)
        async with self.db.begin() as session:
            user = await repo.get_user(session, user_id)
            if user is None:
                raise NotFoundError("no such user")
            if user.password_hash != verified:  # changed meanwhile: what was checked is stale
                raise ValidationError("your password was just changed elsewhere; try again")
            user.password_hash = encoded
            await repo.delete_user_sessions(session, user_id, keep=session_id_for(keep_session))

    async def list_users(self) -> list[User]:
        async with self.db.begin() as session:
            return list(await repo.list_users(session))

    async def approve(self, user_id: int) -> None:
        async with self.db.begin() as session:
            user = await repo.get_user(session, user_id)
            if user is None:
                raise NotFoundError("no such user")
            user.approved = True

    async def reject(self, user_id: int) -> None:
        """Deleting a not-yet-approved sign-up frees its name again."""
        async with self.db.begin() as session:
            user = await repo.get_user(session, user_id)
            if user is None:
                raise NotFoundError("no such user")
            if user.approved:
                raise ValidationError("only pending sign-ups can be rejected")
            await session.delete(user.account)

    async def search(self, text: str) -> list[Account]:
        async with self.db.begin() as session:
            return await repo.search_accounts(session, text)
