"""Chronological timelines, newest first, paged by id. No ranking, ever."""

from __future__ import annotations

from dataclasses import dataclass, field

from kizuna.errors import NotFoundError
from kizuna.services.posts import Visibility
from kizuna.storage import interactions, repo
from kizuna.storage.engine import Database, Session
from kizuna.storage.interactions import PostStats
from kizuna.storage.models import Account, Post

PAGE_SIZE = repo.PAGE_SIZE


@dataclass(frozen=True, slots=True, kw_only=True)
class Page:
    posts: list[Post]
    # max_id for the next (older) page; None at the end.
    next_max_id: int | None
    # Likes, boosts, replies and the viewer's own state, by the id of the post shown.
    stats: dict[int, PostStats] = field(default_factory=dict)


async def _page(session: Session, posts: list[Post], limit: int, viewer: Account | None) -> Page:
    shown = [p.reblog_of.id if p.reblog_of is not None else p.id for p in posts]
    stats = await interactions.post_stats(session, shown, viewer.id if viewer else None)
    return Page(posts=posts, next_max_id=posts[-1].id if len(posts) == limit else None, stats=stats)


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    account: Account
    following: int
    followers: int
    viewer_follows: bool
    viewer_requested: bool
    page: Page


class TimelineService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def home(self, viewer: Account, *, max_id: int | None = None) -> Page:
        async with self.db.begin() as session:
            posts = await repo.home_timeline(session, viewer.id, max_id=max_id)
            page = await _page(session, posts, PAGE_SIZE, viewer)
        # A post and its boosts show once, at the newest (Mastodon keeps reblogs of a status
        # already in the feed out of it too); paging still follows the raw rows.
        seen: set[int] = set()
        shown = []
        for post in page.posts:
            key = post.reblog_of_id or post.id
            if key not in seen:
                seen.add(key)
                shown.append(post)
        return Page(posts=shown, next_max_id=page.next_max_id, stats=page.stats)

    async def local(self, viewer: Account | None = None, *, max_id: int | None = None) -> Page:
        async with self.db.begin() as session:
            posts = await repo.public_timeline(session, local_only=True, max_id=max_id)
            return await _page(session, posts, PAGE_SIZE, viewer)

    async def tag(
        self, tag: str, viewer: Account | None = None, *, max_id: int | None = None
    ) -> Page:
        async with self.db.begin() as session:
            posts = await repo.tag_timeline(session, tag, max_id=max_id)
            return await _page(session, posts, PAGE_SIZE, viewer)

    async def profile(
        self,
        username: str,
        viewer: Account | None,
        *,
        domain: str = "",
        max_id: int | None = None,
    ) -> Profile:
        async with self.db.begin() as session:
            account = await repo.get_account_by_username(session, username.casefold(), domain)
            if account is None or account.actor_type == "Application":
                where = f"@{domain}" if domain else " here"
                raise NotFoundError(f"no account named @{username}{where}")
            visibilities = [Visibility.PUBLIC.value, Visibility.UNLISTED.value]
            follow = (
                None if viewer is None else await repo.get_follow(session, viewer.id, account.id)
            )
            viewer_follows = follow is not None and follow.state == "accepted"
            if viewer is not None and (viewer_follows or viewer.id == account.id):
                visibilities.append(Visibility.PRIVATE.value)
            posts = await repo.account_timeline(
                session, account.id, visibilities=visibilities, max_id=max_id
            )
            following, followers = await repo.follow_counts(session, account.id)
            page = await _page(session, posts, PAGE_SIZE, viewer)
        return Profile(
            account=account,
            following=following,
            followers=followers,
            viewer_follows=viewer_follows,
            viewer_requested=follow is not None and follow.state == "pending",
            page=page,
        )
