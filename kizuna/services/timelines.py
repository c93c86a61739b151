"""Chronological timelines, newest first, paged by id. No ranking, ever."""

from __future__ import annotations

from dataclasses import dataclass

from kizuna.errors import NotFoundError
from kizuna.services.posts import Visibility
from kizuna.storage import repo
from kizuna.storage.engine import Database
from kizuna.storage.models import Account, Post

PAGE_SIZE = repo.PAGE_SIZE


@dataclass(frozen=True, slots=True, kw_only=True)
class Page:
    posts: list[Post]
    # max_id for the next (older) page; None at the end.
    next_max_id: int | None


def _page(posts: list[Post], limit: int) -> Page:
    return Page(posts=posts, next_max_id=posts[-1].id if len(posts) == limit else None)


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
        return _page(posts, PAGE_SIZE)

    async def local(self, *, max_id: int | None = None) -> Page:
        async with self.db.begin() as session:
            posts = await repo.public_timeline(session, local_only=True, max_id=max_id)
        return _page(posts, PAGE_SIZE)

    async def tag(self, tag: str, *, max_id: int | None = None) -> Page:
        async with self.db.begin() as session:
            posts = await repo.tag_timeline(session, tag, max_id=max_id)
        return _page(posts, PAGE_SIZE)

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
        return Profile(
            account=account,
            following=following,
            followers=followers,
            viewer_follows=viewer_follows,
            viewer_requested=follow is not None and follow.state == "pending",
            page=_page(posts, PAGE_SIZE),
        )
