"""Local posts: the 150-character rule, Mastodon-style HTML, visibility checks."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from kizuna.activitypub.ids import status_page_url, status_url, tag_url
from kizuna.activitypub.text import (
    MAX_POST_CHARS,
    MentionRef,
    count_chars,
    extract_hashtags,
    extract_mentions,
    render_plain,
)
from kizuna.activitypub.vocab import Visibility
from kizuna.clock import utcnow
from kizuna.config import Config
from kizuna.errors import NotFoundError, PermissionDeniedError, ValidationError
from kizuna.outbox.outbox import Outbox
from kizuna.services.community_rules import posting_refusal
from kizuna.services.custom_emoji import CustomEmojiService
from kizuna.services.surface import Surface
from kizuna.storage import blocks, queue, repo
from kizuna.storage.engine import Database, Session
from kizuna.storage.ids import new_id
from kizuna.storage.models import Account, Delivery, Post

MAX_SUMMARY_CHARS = 100
LANGUAGES = ("ja", "en", "ko", "zh")


_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")


def guess_language(text: str) -> str | None:
    """Kana means Japanese, Hangul Korean; the lang attribute then picks the right glyphs."""
    if _KANA.search(text):
        return "ja"
    if _HANGUL.search(text):
        return "ko"
    return None


async def can_see(session: Session, post: Post, viewer: Account | None) -> bool:
    if post.account.suspended_at is not None:
        return False  # instance moderation: a suspended account's posts are gone from view
    if post.visibility in (Visibility.PUBLIC, Visibility.UNLISTED):
        return True
    if viewer is None:
        return False
    if viewer.id == post.account_id or await repo.is_mentioned(session, post.id, viewer.id):
        return True
    return post.visibility == Visibility.PRIVATE and await repo.follows_accepted(
        session, viewer.id, post.account_id
    )


async def visible_target(session: Session, post_id: int, viewer: Account) -> Post:
    """The post someone likes, reacts to or boosts: through a boost, what was boosted."""
    post = await repo.get_post(session, post_id)
    if post is not None and post.reblog_of is not None:
        post = post.reblog_of
    if post is None or not await can_see(session, post, viewer):
        raise NotFoundError("this post does not exist or is not visible to you")
    return post


async def revise(
    session: Session,
    post: Post,
    *,
    content_html: str,
    summary: str,
    sensitive: bool,
    updated_at: datetime,
    tags: Iterable[str] | None = None,
) -> None:
    """An edit's new words, for one of our posts and for one another server updates alike;
    `tags` replace the post's hashtags when given."""
    post.content_html = content_html
    post.summary = summary
    post.sensitive = sensitive
    post.updated_at = updated_at
    if tags is not None:
        await repo.replace_tags(session, post.id, tags)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverySummary:
    counts: dict[str, int]
    total: int
    failures: list[Delivery]


# Counting graphemes costs ~0.15 us a code point, on the event loop: text this long is far
# over any limit and is refused uncounted (a 2 MB form field would take 0.3 s).
MAX_COUNTED = 20_000


class PostService:
    def __init__(
        self,
        db: Database,
        config: Config,
        outbox: Outbox,
        emoji: CustomEmojiService,
        surface: Surface,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.config = config
        self.outbox = outbox
        self.emoji = emoji
        self.surface = surface
        self.clock = clock

    def _validate(self, text: str, summary: str, visibility: str, language: str) -> Visibility:
        if not text:
            raise ValidationError("a post cannot be empty", field="content")
        if len(text) > MAX_COUNTED:
            raise ValidationError(
                f"a post holds at most {MAX_POST_CHARS} characters; "
                f"this one has more than {MAX_COUNTED:,}",
                field="content",
            )
        if len(summary) > MAX_COUNTED:
            raise ValidationError(
                f"a content warning holds at most {MAX_SUMMARY_CHARS} characters", field="summary"
            )
        length = count_chars(text)
        if length > MAX_POST_CHARS:
            raise ValidationError(
                f"a post holds at most {MAX_POST_CHARS} characters; this one has {length}",
                field="content",
            )
        if count_chars(summary) > MAX_SUMMARY_CHARS:
            raise ValidationError(
                f"a content warning holds at most {MAX_SUMMARY_CHARS} characters", field="summary"
            )
        if language and language not in LANGUAGES:
            raise ValidationError("unknown language", field="language")
        try:
            return Visibility(visibility)
        except ValueError:
            raise ValidationError(
                "visibility must be public, unlisted, private or direct", field="visibility"
            ) from None

    async def create(
        self,
        author: Account,
        text: str,
        *,
        summary: str = "",
        visibility: str = "public",
        language: str = "",
        in_reply_to: int | None = None,
        community_id: int | None = None,
    ) -> Post:
        """`community_id`: a community (Group, ours or remote) the author belongs to; a reply
        inside a community thread belongs to that community without saying so."""
        text = text.replace("\r\n", "\n").strip()
        summary = " ".join(summary.split())
        vis = self._validate(text, summary, visibility, language)
        refs = extract_mentions(text, local_domain=self.config.domain)
        base = self.config.base_url
        post_id = new_id()
        async with self.db.begin() as session:
            parent = None
            if in_reply_to is not None:
                parent = await repo.get_post(session, in_reply_to)
                if parent is None or not await can_see(session, parent, author):
                    raise NotFoundError("the post you reply to does not exist or is not visible")
                community_id = community_id or parent.community_id
            if community_id is not None:
                group = await repo.get_account(session, community_id)
                if group is None or not group.is_group:
                    raise NotFoundError("no such community")
                refusal = await posting_refusal(session, group, author, top_level=parent is None)
                if refusal:
                    raise PermissionDeniedError(refusal)
                vis = Visibility.PUBLIC  # community threads are public, as Lemmy's
            found = await repo.get_accounts_by_acct(
                session, ((r.username.casefold(), r.domain or "") for r in refs)
            )
            by_key = {(a.username_key, a.domain): a for a in found}
            emojis = await self.emoji.render_map(session, text)
            mention_urls: dict[MentionRef, str] = {}
            mentioned: list[Account] = []
            for ref in refs:
                account = by_key.get((ref.username.casefold(), ref.domain or ""))
                if account is not None:
                    mention_urls[ref] = account.url or account.uri
                    mentioned.append(account)
            if parent is not None and await self._mentions_parent_author(session, author, parent):
                mentioned.append(parent.account)
            post = Post(
                id=post_id,
                uri=status_url(base, author.username, post_id),
                url=status_page_url(base, author.username, post_id),
                account_id=author.id,
                local=True,
                content_source=text,
                content_html=render_plain(
                    text,
                    mention_urls=mention_urls,
                    tag_url=lambda t: tag_url(base, t),
                    local_domain=self.config.domain,
                    emoji_url=self.emoji.url_for(emojis),
                ),
                summary=summary,
                sensitive=bool(summary),
                visibility=vis.value,
                language=language or guess_language(text),
                in_reply_to_id=parent.id if parent else None,
                in_reply_to_uri=parent.uri if parent else None,
                community_id=community_id,
                created_at=self.clock(),
            )
            await repo.add_post(
                session,
                post,
                tags=extract_hashtags(text),
                mention_ids={a.id for a in mentioned if a.id != author.id},
            )
            # This session's copy of the author: a parent may have loaded it already.
            own = await repo.get_account(session, author.id)
            assert own is not None
            post.account = own
            await self.surface.posted(
                session, post, parent=parent, mentioned=mentioned, now=self.clock()
            )
            # Same transaction: the post and its deliveries exist together or not at all.
            await self.outbox.send_create(session, post)
        return post

    async def _mentions_parent_author(
        self, session: Session, author: Account, parent: Post
    ) -> bool:
        """A reply mentions the author it answers even when not typed (Mastodon's composer
        puts the mention in; servers notify by Mention and deliver by to/cc): not oneself,
        not a community or the instance actor, and not across a block either way."""
        other = parent.account
        if other.id == author.id or other.is_group or other.is_instance_actor:
            return False
        return not await blocks.blocked_either_way(session, author.id, [other.id])

    async def edit(self, post_id: int, author: Account, text: str, *, summary: str = "") -> Post:
        """Change a post's words; followers' servers get an Update with the whole note."""
        text = text.replace("\r\n", "\n").strip()
        summary = " ".join(summary.split())
        async with self.db.begin() as session:
            post = await repo.get_post(session, post_id)
            if post is None or post.reblog_of_id is not None:
                raise NotFoundError("no such post")
            if post.account_id != author.id:
                raise PermissionDeniedError("you can only edit your own posts")
            self._validate(text, summary, post.visibility, post.language or "")
            refs = extract_mentions(text, local_domain=self.config.domain)
            found = await repo.get_accounts_by_acct(
                session, ((r.username.casefold(), r.domain or "") for r in refs)
            )
            by_key = {(a.username_key, a.domain): a for a in found}
            emojis = await self.emoji.render_map(session, text)
            base = self.config.base_url
            post.content_source = text
            content_html = render_plain(
                text,
                mention_urls={
                    ref: account.url or account.uri
                    for ref in refs
                    if (account := by_key.get((ref.username.casefold(), ref.domain or "")))
                },
                tag_url=lambda t: tag_url(base, t),
                local_domain=self.config.domain,
                emoji_url=self.emoji.url_for(emojis),
            )
            await revise(
                session,
                post,
                content_html=content_html,
                summary=summary,
                sensitive=bool(summary),
                updated_at=self.clock(),
                tags=extract_hashtags(text),
            )
            await self.outbox.send_update(session, post)
        return post

    async def delivery(self, post: Post) -> DeliverySummary | None:
        """For the author: to how many servers the post went, and what failed."""
        async with self.db.begin() as session:
            counts = (await queue.delivery_counts(session, [post.id]))[post.id]
            if not counts:
                return None
            failures = await queue.failed_deliveries(session, post.id)
        return DeliverySummary(counts=counts, total=sum(counts.values()), failures=failures)

    async def get_visible(self, post_id: int, viewer: Account | None) -> Post:
        async with self.db.begin() as session:
            post = await repo.get_post(session, post_id)
            if post is None or not await can_see(session, post, viewer):
                raise NotFoundError("this post does not exist or is not visible to you")
        return post

    async def delete(self, post_id: int, actor: Account) -> Post:
        async with self.db.begin() as session:
            post = await repo.get_post(session, post_id)
            if post is None:
                raise NotFoundError("no such post")
            if post.account_id != actor.id:
                raise PermissionDeniedError("you can only delete your own posts")
            await self.outbox.send_delete(session, post)
            await repo.delete_post(session, post_id)
        return post
