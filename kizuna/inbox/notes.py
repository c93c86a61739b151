"""Remote posts into rows: trusted only from their origin, parents fetched (bounded).

An embedded object is used as is only when the sender is its author on its own host;
anything else (a relayed copy, a boost of an unknown post, a missing parent) is fetched from
its id, and the author named there must live on that same host.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import unquote

from kizuna.activitypub.actors import RemoteActor
from kizuna.activitypub.emoji import emojify_html, find_shortcodes
from kizuna.activitypub.html_rewrite import Rewriter, start_tag
from kizuna.activitypub.ids import tag_path
from kizuna.activitypub.objects import RemoteNote, parse_note
from kizuna.activitypub.vocab import host_of
from kizuna.errors import KizunaError
from kizuna.federation.client import FederationClient
from kizuna.federation.errors import IdentityMismatchError
from kizuna.federation.lookup import RemoteAccountService, apply_actor, check_lengths
from kizuna.services.custom_emoji import CustomEmojiService, image_src
from kizuna.services.posts import revise
from kizuna.storage import repo
from kizuna.storage.engine import Session
from kizuna.storage.models import Account, Post, PostMention, PostTag

logger = logging.getLogger(__name__)

MAX_PARENTS = 5  # a reply chain is followed this far up when parents are missing
MAX_EMOJI_PER_NOTE = 20  # custom emoji images fetched for one note, at most


def parse_time(value: str | None, fallback: datetime) -> datetime:
    if not value:
        return fallback
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return fallback
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class _LocalLinks(Rewriter):
    """Rewrites `<a href>` of sanitised HTML through the parser (never by formatting the
    markup: a username or tag name from another server is an attribute value, escaped)."""

    def __init__(self, targets: dict[str, str], tags: set[str]) -> None:
        super().__init__()
        self.targets = targets
        self.tags = tags

    def start(self, tag: str, attrs: list[tuple[str, str | None]]) -> str | None:
        if tag != "a":
            return None
        return start_tag(tag, [(n, self._href(v) if n == "href" else v) for n, v in attrs])

    def _href(self, href: str | None) -> str | None:
        if href is None:
            return None
        if href in self.targets:
            return self.targets[href]
        last = unquote(href.rstrip("/").rsplit("/", 1)[-1]).casefold()
        if "/tags/" in href and last in self.tags:
            return tag_path(last)
        return href


def localise_links(content: str, accounts: list[Account], hashtags: tuple[str, ...]) -> str:
    """Mentions of known accounts and the post's hashtags link to our own pages."""
    targets: dict[str, str] = {}
    for account in accounts:
        page = f"/@{account.acct}"
        for url in filter(None, (account.uri, account.url)):
            targets[url] = page
    if not targets and not hashtags:
        return content
    return _LocalLinks(targets, {t.casefold() for t in hashtags}).rewrite(content)


def poll_html(note: RemoteNote) -> str:
    if not note.poll_options:
        return ""
    items = "".join(f"<li>{html.escape(option, quote=True)}</li>" for option in note.poll_options)
    return f'<ul class="poll">{items}</ul>'


class NoteStore:
    def __init__(
        self,
        client: FederationClient,
        remote_accounts: RemoteAccountService,
        emoji: CustomEmojiService,
        clock: Callable[[], datetime],
    ) -> None:
        self.client = client
        self.remote_accounts = remote_accounts
        self.emoji = emoji
        self.clock = clock

    async def author(self, session: Session, uri: str) -> Account:
        # Relayed or embedded content from a blocked server is refused like a fetch would be.
        await self.client.check_host(host_of(uri))
        account = await repo.get_account_by_uri(session, uri)
        return account if account is not None else await self.remote_accounts.resolve_url(uri)

    async def refresh_actor(self, actor: Account, remote: RemoteActor) -> None:
        """Update(Person): apply the embedded document when it is the sender's own."""
        if remote.id != actor.uri or host_of(remote.id) != host_of(actor.uri):
            raise IdentityMismatchError(f"{actor.uri} cannot update {remote.id}")
        check_lengths(remote)
        media = await self.client.media_allowed(actor.domain)
        apply_actor(actor, remote, actor.domain, self.clock(), media=media)

    async def fetch(self, session: Session, note_id: str) -> tuple[RemoteNote, Account]:
        """The note as its origin serves it, and its author (who must live there too)."""
        fetched = await self.client.get_json(note_id)
        note = parse_note(fetched.doc)
        if host_of(note.id) != host_of(fetched.url) or host_of(note.attributed_to) != host_of(
            note.id
        ):
            raise IdentityMismatchError(f"{note_id} is not served by its author's host")
        return note, await self.author(session, note.attributed_to)

    async def trusted(
        self, session: Session, sender: Account, embedded: RemoteNote | None, object_id: str
    ) -> tuple[RemoteNote, Account]:
        if embedded is not None:
            note = embedded.seen_by(sender.followers_url)
            if host_of(note.id) == host_of(sender.uri) and note.attributed_to == sender.uri:
                return note, sender
        return await self.fetch(session, object_id)  # relayed or bare: ask its origin

    async def store(self, session: Session, note: RemoteNote, author: Account) -> Post | None:
        """The stored post, or None when we had it already. Missing parents are fetched."""
        if await repo.get_post_by_uri(session, note.id) is not None:
            return None
        return await self._insert(session, note, author, await self._parent(session, note))

    async def _parent(self, session: Session, note: RemoteNote, depth: int = 0) -> Post | None:
        if not note.in_reply_to:
            return None
        known = await repo.get_post_by_uri(session, note.in_reply_to)
        if known is not None or depth >= MAX_PARENTS:
            return known
        try:
            parent_note, parent_author = await self.fetch(session, note.in_reply_to)
        except KizunaError as exc:
            logger.info("parent %s not fetched: %s", note.in_reply_to, exc)
            return None
        if parent_note.id != note.in_reply_to:
            return None  # a parent must be what the reply names, or chains could loop
        grandparent = await self._parent(session, parent_note, depth + 1)
        return await self._insert(session, parent_note, parent_author, grandparent)

    async def draw_emoji(
        self, session: Session, note: RemoteNote, author: Account, content: str
    ) -> str:
        """`content` (sanitised HTML) with the custom emoji it names drawn as our cached
        images. The note's Emoji tags are fetched and cached (at most MAX_EMOJI_PER_NOTE, only
        those the content names); one that cannot be (unsafe URL, too big, not an image, peer
        down) stays `:shortcode:` text and never fails the post."""
        if not note.emojis:
            return content
        named = {content[s + 1 : e - 1] for s, e in find_shortcodes(content)}
        sources: dict[str, str] = {}
        for tag in [e for e in note.emojis if e.shortcode in named][:MAX_EMOJI_PER_NOTE]:
            try:
                emoji = await self.emoji.remote(
                    session, tag.shortcode, author.domain, tag.icon_url, tag.id
                )
            except KizunaError as exc:
                logger.info("emoji :%s: of %s not kept: %s", tag.shortcode, note.id, exc)
                continue
            src = image_src(emoji)
            if src is not None:
                sources[tag.shortcode] = src
        return emojify_html(content, sources)

    async def content(
        self, session: Session, note: RemoteNote, author: Account, mentioned: list[Account]
    ) -> str:
        """The HTML we keep for a remote note (on arrival and on every edit): our links for
        mentions and hashtags, its custom emoji from our cache, its poll options."""
        content = localise_links(note.content_html, mentioned, note.hashtags)
        return await self.draw_emoji(session, note, author, content) + poll_html(note)

    async def revise(self, session: Session, post: Post, note: RemoteNote, author: Account) -> None:
        """A remote post's new words, as its origin's Update (direct or relayed) gives them."""
        mentioned = await repo.get_accounts_by_uris(session, [h for h, _ in note.mentions])
        await revise(
            session,
            post,
            content_html=await self.content(session, note, author, mentioned),
            summary=note.summary or "",
            sensitive=note.sensitive,
            updated_at=parse_time(note.updated, self.clock()),
        )

    async def _insert(
        self, session: Session, note: RemoteNote, author: Account, parent: Post | None
    ) -> Post:
        mentioned = await repo.get_accounts_by_uris(session, [href for href, _ in note.mentions])
        post = Post(
            uri=note.id,
            url=note.url,
            account_id=author.id,
            local=False,
            content_source="",
            content_html=await self.content(session, note, author, mentioned),
            summary=note.summary or "",
            sensitive=note.sensitive,
            visibility=note.visibility,
            language=(note.language or "")[:16] or None,
            in_reply_to_uri=note.in_reply_to,
            in_reply_to_id=parent.id if parent else None,
            created_at=parse_time(note.published, self.clock()),
        )
        session.add(post)
        await session.flush()
        for account in mentioned:
            session.add(PostMention(post_id=post.id, account_id=account.id))
        for tag in dict.fromkeys(t[:255] for t in note.hashtags):
            session.add(PostTag(post_id=post.id, tag=tag))
        await session.flush()
        # The author may come from another session (just resolved): use this session's copy.
        own = await repo.get_account(session, author.id)
        assert own is not None
        post.account = own
        return post
