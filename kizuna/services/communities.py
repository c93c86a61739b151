"""Communities: Group actors people create, find, join, read and post in.

A community is an `Account` of type Group (ours: domain "", a key pair, `/c/SLUG`) plus a
`Community` row for what only ours have. Membership is a Follow of the Group, so joining
a remote community (Lemmy, another Kizuna) is the ordinary Follow/Accept exchange.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from kizuna.activitypub.ids import group_urls, local_group_slug, tag_url
from kizuna.activitypub.text import count_chars, render_plain
from kizuna.activitypub.vocab import ActorType
from kizuna.clock import utcnow
from kizuna.errors import NotFoundError, PermissionDeniedError, ValidationError
from kizuna.federation.lookup import RemoteAccountService
from kizuna.keys import KeySource
from kizuna.outbox.outbox import Outbox
from kizuna.services.accounts import RESERVED_USERNAMES, set_actor_urls
from kizuna.services.community_rules import restricted_to_mods
from kizuna.services.follows import FollowService
from kizuna.services.images import CleanImage
from kizuna.services.media import AVATAR, HEADER, MediaStore
from kizuna.services.posts import PostService
from kizuna.services.timelines import Page
from kizuna.storage import blocks, communities, interactions, repo
from kizuna.storage.communities import DirectoryEntry
from kizuna.storage.engine import Database
from kizuna.storage.models import (
    Account,
    Community,
    CommunityBan,
    Follow,
    ModerationLogEntry,
    Post,
)
from kizuna.storage.states import CommunityRank, FollowState

SLUG_RE = re.compile(r"[a-z0-9_]{3,30}")
# Paths of our own beside /c/: a community named so would shadow a page.
RESERVED_SLUGS = RESERVED_USERNAMES | {"new", "communities", "moderators", "admin", "all"}
MAX_NAME, MAX_DESCRIPTION, MAX_RULES = 50, 500, 2000
THREADS_PAGE = 20


@dataclass(frozen=True, slots=True, kw_only=True)
class CommunitySettings:
    """What its moderators can change later; icon/banner None keeps the current image."""

    name: str
    description: str = ""
    rules: str = ""
    approval_required: bool = False
    posting_restricted: bool = False
    icon: bytes | None = None
    banner: bytes | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NewCommunity(CommunitySettings):
    slug: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CommunityView:
    group: Account
    community: Community | None  # None for a remote community
    members: int
    posts: int
    moderators: list[tuple[Account, CommunityRank]]
    viewer_role: CommunityRank | None
    viewer_state: str | None  # member | pending | banned
    pinned: list[Post]
    page: Page

    @property
    def is_local(self) -> bool:
        return self.group.is_local

    @property
    def posting_restricted(self) -> bool:
        return restricted_to_mods(
            self.group, self.community.posting_restricted if self.community else None
        )

    @property
    def rules(self) -> str:
        return self.community.rules if self.community is not None else ""

    @property
    def path(self) -> str:
        return community_path(self.group)


def community_path(group: Account) -> str:
    return f"/c/{group.username}" if group.is_local else f"/c/{group.username}@{group.domain}"


def split_ref(ref: str) -> tuple[str, str]:
    """ "slug" or "name@host" (a leading "!" allowed) → (casefolded name, domain)."""
    name, _, domain = ref.removeprefix("!").partition("@")
    return name.casefold(), domain.lower()


def validate_slug(slug: str) -> str:
    if not SLUG_RE.fullmatch(slug):
        raise ValidationError(
            "a community's address is 3 to 30 lowercase letters, digits or _", field="slug"
        )
    if slug in RESERVED_SLUGS:
        raise ValidationError(f"the address {slug!r} is reserved", field="slug")
    return slug


class CommunityService:
    def __init__(
        self,
        db: Database,
        base_url: str,
        domain: str,
        media: MediaStore,
        follows: FollowService,
        posts: PostService,
        remote_accounts: RemoteAccountService,
        outbox: Outbox,
        keys: KeySource,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.outbox = outbox
        self.keys = keys
        self.db = db
        self.base_url = base_url
        self.domain = domain
        self.media = media
        self.follows = follows
        self.posts = posts
        self.remote_accounts = remote_accounts
        self.clock = clock

    def _validated(self, settings: CommunitySettings) -> str:
        """The name, normalised; raises ValidationError on any field out of bounds."""
        name = " ".join(settings.name.split())
        if not name or count_chars(name) > MAX_NAME:
            raise ValidationError(f"a name of 1 to {MAX_NAME} characters", field="name")
        if count_chars(settings.description) > MAX_DESCRIPTION:
            raise ValidationError(
                f"a description holds at most {MAX_DESCRIPTION} characters", field="description"
            )
        if count_chars(settings.rules) > MAX_RULES:
            raise ValidationError(f"rules hold at most {MAX_RULES} characters", field="rules")
        for image, field in ((settings.icon, "icon"), (settings.banner, "banner")):
            if image:
                self.media.check(image, field=field)
        return name

    async def _images(
        self, settings: CommunitySettings
    ) -> tuple[CleanImage | None, CleanImage | None]:
        """The icon and banner decoded and re-encoded (before any transaction: decoding
        takes a while)."""
        return (
            await self.media.clean(settings.icon, AVATAR, field="icon") if settings.icon else None,
            await self.media.clean(settings.banner, HEADER, field="banner")
            if settings.banner
            else None,
        )

    async def update(self, group_id: int, moderator: Account, settings: CommunitySettings) -> None:
        """A moderator changes the community; members' servers get an Update(Group)."""
        name = self._validated(settings)
        icon, banner = await self._images(settings)
        async with self.db.begin() as session:
            group = await repo.get_account(session, group_id)
            community = await communities.get_community(session, group_id)
            if group is None or community is None:
                raise NotFoundError("no such community here")
            if await communities.role_of(session, group_id, moderator.id) is None:
                raise PermissionDeniedError(f"only the moderators of !{group.acct} may do that")
            group.display_name = name
            group.note = settings.description.strip()
            group.note_html = self._html(group.note)
            group.locked = settings.approval_required
            group.updated_at = self.clock()
            community.rules = settings.rules.strip()
            community.posting_restricted = settings.posting_restricted
            if icon:
                group.avatar_path = await self.media.store("avatars", str(group.id), icon)
            if banner:
                group.header_path = await self.media.store("headers", str(group.id), banner)
            await communities.add_log(
                session,
                ModerationLogEntry(
                    community_id=group.id,
                    moderator_id=moderator.id,
                    action="edit",
                    created_at=self.clock(),
                ),
            )
            await self.outbox.send_update_actor(session, group)

    async def create(self, owner: Account, new: NewCommunity) -> Account:
        slug = validate_slug(new.slug.strip())
        name = self._validated(new)
        icon, banner = await self._images(new)
        keys = await asyncio.to_thread(self.keys)
        now = self.clock()
        async with self.db.begin() as session:
            if slug == self.domain or await repo.username_taken(session, slug):
                raise ValidationError(f"the address {slug!r} is taken", field="slug")
            group = Account(
                username=slug,
                username_key=slug,
                domain="",
                actor_type=ActorType.GROUP,
                display_name=name,
                note=new.description.strip(),
                note_html=self._html(new.description.strip()),
                locked=new.approval_required,
                public_key_pem=keys.public_pem,
                private_key_pem=keys.private_pem,
                created_at=now,
                updated_at=now,
            )
            set_actor_urls(group, group_urls(self.base_url, slug))
            group = await repo.add_account(session, group)
            session.add(
                Community(
                    account_id=group.id,
                    rules=new.rules.strip(),
                    posting_restricted=new.posting_restricted,
                    created_by_id=owner.id,
                    created_at=now,
                )
            )
            await communities.set_role(session, group.id, owner.id, CommunityRank.OWNER, now)
            await repo.add_follow(
                session,
                Follow(account_id=owner.id, target_account_id=group.id, created_at=now),
            )
            if icon:
                group.avatar_path = await self.media.store("avatars", str(group.id), icon)
            if banner:
                group.header_path = await self.media.store("headers", str(group.id), banner)
        return group

    def _html(self, text: str) -> str:
        base = self.base_url
        return render_plain(text, mention_urls={}, tag_url=lambda t: tag_url(base, t))

    async def group(self, ref: str) -> Account:
        """A community we know, by "slug" (ours) or "name@host" (remote)."""
        name, domain = split_ref(ref)
        if domain == self.domain:
            domain = ""
        async with self.db.begin() as session:
            group = await communities.get_group(session, name, domain)
        if group is None:
            raise NotFoundError(f"no community !{ref.removeprefix('!')} known here")
        return group

    async def find(self, query: str) -> Account:
        """`!name@host`, `name@host` or a URL: looked up (WebFinger, actor) when unknown."""
        query = query.strip().removeprefix("!")
        slug = local_group_slug(self.base_url, query)
        if slug is not None:
            return await self.group(slug)
        if not query.startswith(("https://", "http://")):
            try:
                return await self.group(query)  # known already (refreshed when fetched)
            except NotFoundError:
                if "@" not in query:
                    raise
        account = await self.remote_accounts.resolve(query)
        if not account.is_group:
            raise NotFoundError(f"{query} is not a community")
        return account

    async def view(
        self, ref: str, viewer: Account | None, *, max_id: int | None = None
    ) -> CommunityView:
        group = await self.group(ref)
        async with self.db.begin() as session:
            community = await communities.get_community(session, group.id)
            members, posts = (await communities.counts(session, [group.id]))[group.id]
            role = state = None
            if viewer is not None:
                role = await communities.role_of(session, group.id, viewer.id)
                follow = await repo.get_follow(session, viewer.id, group.id)
                if await communities.get_ban(session, group.id, viewer.id) is not None:
                    state = "banned"
                elif follow is not None:
                    state = "member" if follow.state == FollowState.ACCEPTED else "pending"
            hiding = (
                blocks.post_filters(await blocks.viewer_filter(session, viewer.id, self.clock()))
                if viewer is not None
                else []
            )
            threads = await communities.community_posts(
                session, group.id, max_id=max_id, limit=THREADS_PAGE, hidden=hiding
            )
            stats = await interactions.post_stats(
                session, [p.id for p in threads], viewer.id if viewer else None
            )
            page = Page(
                posts=threads,
                next_max_id=threads[-1].id if len(threads) == THREADS_PAGE else None,
                stats=stats,
            )
            return CommunityView(
                group=group,
                community=community,
                members=members,
                posts=posts,
                moderators=await communities.moderators(session, group.id),
                viewer_role=role,
                viewer_state=state,
                pinned=await communities.pinned_posts(session, group.id) if max_id is None else [],
                page=page,
            )

    async def directory(self, text: str = "") -> list[DirectoryEntry]:
        async with self.db.begin() as session:
            return await communities.directory(session, " ".join(text.split())[:100])

    async def joined(self, account: Account) -> list[Account]:
        async with self.db.begin() as session:
            return await communities.joined_groups(session, account.id)

    async def join(self, account: Account, ref: str) -> Follow:
        group = await self.group(ref)
        async with self.db.begin() as session:
            if await communities.get_ban(session, group.id, account.id) is not None:
                raise PermissionDeniedError(f"you are banned from !{group.acct}")
        return await self.follows.follow_account(account, group.id)

    async def leave(self, account: Account, ref: str) -> None:
        group = await self.group(ref)
        async with self.db.begin() as session:
            if await communities.role_of(session, group.id, account.id) == CommunityRank.OWNER:
                raise ValidationError("the owner cannot leave; hand the community over first")
        await self.follows.unfollow_account(account, group.id)

    async def post(
        self, author: Account, ref: str, text: str, *, in_reply_to: int | None = None
    ) -> Post:
        group = await self.group(ref)
        return await self.posts.create(author, text, in_reply_to=in_reply_to, community_id=group.id)

    async def members(self, ref: str) -> list[Account]:
        group = await self.group(ref)
        async with self.db.begin() as session:
            return await communities.members(session, group.id)

    async def bans(self, group: Account) -> list[tuple[Account, CommunityBan]]:
        async with self.db.begin() as session:
            return await communities.bans(session, group.id)

    async def moderation_log(self, ref: str) -> list[ModerationLogEntry]:
        group = await self.group(ref)
        async with self.db.begin() as session:
            return await communities.moderation_log(session, group.id)
