"""Reactions: a plain like or emoji, several per user and post, federated per peer dialect.

Single-slot peers (Misskey: one reaction per user; Mastodon and the unknown: one favourite)
hear only one of a user's reactions to a post at a time, the "carrier": the oldest that
they can show (for like-only peers a positive one). Removing the carrier sends its Undo and
then the next carrier, so their count never holds a user twice nor drops one still reacting.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from kizuna.activitypub.activities import undo_json
from kizuna.activitypub.ids import reaction_url, undo_id
from kizuna.activitypub.reactions import (
    DEFAULT_NEGATIVE,
    Dialect,
    EmojiTag,
    dialect_for,
    is_positive,
    is_shortcode,
    reaction_json,
    valid_reaction,
)
from kizuna.activitypub.vocab import JsonObject
from kizuna.clock import utcnow
from kizuna.config import Config
from kizuna.errors import ValidationError
from kizuna.federation.peers import PeerSoftware
from kizuna.outbox.outbox import Outbox
from kizuna.services.posts import visible_target
from kizuna.services.surface import Surface
from kizuna.storage import emoji as emoji_storage
from kizuna.storage import interactions, reactions
from kizuna.storage.engine import Database, Session
from kizuna.storage.ids import new_id
from kizuna.storage.models import Account, CustomEmoji, Post, Reaction
from kizuna.storage.reactions import EmojiCount

# Misskey undoes a reaction by user and note, and keeps the first of two: the next one may
# only arrive after the Undo, so it waits (deliveries to one server run in parallel).
SUCCESSOR_DELAY = timedelta(seconds=10)
DEFAULT_LIMIT = 3  # distinct emoji reactions per user and post (a plain like aside)


class ReactionLimitError(ValidationError):
    """One reaction too many on a post: the browser goes back to the post and says so."""


PALETTE = ("👍", "❤️", "😆", "🎉", "😮", "😢", "🙏", "👀")

TagFor = Callable[[CustomEmoji], EmojiTag]


def mastodon_view(emoji: str, negative: frozenset[str] = DEFAULT_NEGATIVE) -> str:
    """What a Mastodon reader of the post will see, said before one reacts."""
    if emoji == "" or is_positive(emoji, negative):
        return "Mastodon readers see a favourite"
    return "not sent to Mastodon-like servers (a favourite would read wrong)"


def _sendable(reaction: Reaction, custom: CustomEmoji | None, dialect: Dialect) -> bool:
    if custom is not None and custom.local_only:
        return False  # instance-only emoji never leave
    if dialect is Dialect.LIKE_ONLY:
        return reaction.emoji == "" or custom is not None or is_positive(reaction.emoji)
    return True


class ReactionService:
    def __init__(
        self,
        db: Database,
        config: Config,
        outbox: Outbox,
        software: PeerSoftware,
        tag_for: TagFor,
        surface: Surface,
        clock: Callable[[], datetime] = utcnow,
        limit: int = DEFAULT_LIMIT,
    ) -> None:
        self.db = db
        self.config = config
        self.outbox = outbox
        self.software = software
        self.tag_for = tag_for
        self.surface = surface
        self.clock = clock
        self.limit = limit

    async def dialect(self, account: Account) -> Dialect:
        if account.is_local:
            return Dialect.KIZUNA
        return dialect_for(await self.software.known(account.domain))

    async def _post_dialect(self, account: Account, post_id: int) -> Dialect:
        async with self.db.begin() as session:
            post = await visible_target(session, post_id, account)
            author = post.account
        return await self.dialect(author)

    async def react(self, account: Account, post_id: int, emoji: str) -> None:
        """Add a reaction ("" is a plain like); giving the same one twice is a no-op."""
        emoji = emoji.strip()
        if not valid_reaction(emoji):
            raise ValidationError("a reaction is one emoji, or a :shortcode: of this server")
        dialect = await self._post_dialect(account, post_id)
        async with self.db.begin() as session:
            post = await visible_target(session, post_id, account)
            custom = None
            if is_shortcode(emoji):
                custom = await emoji_storage.get_local(session, emoji.strip(":"))
                if custom is None:
                    raise ValidationError(f"there is no custom emoji {emoji} here")
            mine = await reactions.of_account(session, account.id, post.id)
            if any(r.emoji == emoji for r in mine):
                return
            if emoji and sum(1 for r in mine if r.emoji) >= self.limit:
                raise ReactionLimitError(
                    f"You can give up to {self.limit} different reactions to a post; "
                    "take one back to give another."
                )
            actor = self.outbox.actor_id(account)
            reaction_id = new_id()
            reaction = Reaction(
                id=reaction_id,
                account_id=account.id,
                post_id=post.id,
                emoji=emoji,
                custom_emoji_id=custom.id if custom else None,
                uri=reaction_url(actor, reaction_id),  # fetchable (actors/routes.py REACTION)
                created_at=self.clock(),
            )
            if not await interactions.add_reaction(session, reaction):
                return  # a concurrent request gave the same one
            customs = await self._customs(session, [*mine, reaction])
            await self.surface.reacted(session, reaction, post, now=self.clock())
            doc = None
            if _sendable(reaction, custom, dialect) and (
                not dialect.single_slot or self._carrier(mine, customs, dialect) is None
            ):
                doc = self._activity(dialect, reaction, custom, actor, post)
            relay = self._relays(reaction, custom, actor, post)
            await self.outbox.send_reaction(session, account, post, doc, relay=relay)

    async def unreact(self, account: Account, post_id: int, emoji: str) -> None:
        """Take a reaction back: Undo of the activity that carried it, if one did."""
        emoji = emoji.strip()
        dialect = await self._post_dialect(account, post_id)
        async with self.db.begin() as session:
            post = await visible_target(session, post_id, account)
            mine = await reactions.of_account(session, account.id, post.id)
            reaction = next((r for r in mine if r.emoji == emoji), None)
            if reaction is None:
                return
            customs = await self._customs(session, mine)
            custom = customs.get(reaction.custom_emoji_id or 0)
            actor = self.outbox.actor_id(account)
            await interactions.delete_reaction(session, reaction.id)
            rest = [r for r in mine if r.id != reaction.id]
            undo = self._undo(dialect, reaction, custom, actor, post)
            successor = self._carrier(rest, customs, dialect) if dialect.single_slot else None
            if not dialect.single_slot:
                if _sendable(reaction, custom, dialect):
                    await self.outbox.send_reaction(session, account, post, undo)
            elif self._carrier(mine, customs, dialect) is reaction and not (
                # Still a favourite there: Mastodon keeps one per account and post.
                dialect is Dialect.LIKE_ONLY and successor is not None
            ):
                await self.outbox.send_reaction(session, account, post, undo)
                if successor is not None:  # Misskey shows the next one, once undone
                    shown = self._activity(
                        dialect, successor, customs.get(successor.custom_emoji_id or 0), actor, post
                    )
                    await self.outbox.send_reaction(
                        session, account, post, shown, delay=SUCCESSOR_DELAY
                    )
            relay = self._relays(reaction, custom, actor, post, undo=True)
            await self.outbox.send_reaction(session, account, post, None, relay=relay)

    async def _customs(self, session: Session, mine: Sequence[Reaction]) -> dict[int, CustomEmoji]:
        found: dict[int, CustomEmoji] = {}
        for reaction in mine:
            if reaction.custom_emoji_id and reaction.custom_emoji_id not in found:
                emoji = await session.get(CustomEmoji, reaction.custom_emoji_id)
                if emoji is not None:
                    found[emoji.id] = emoji
        return found

    def _carrier(
        self, mine: Sequence[Reaction], customs: dict[int, CustomEmoji], dialect: Dialect
    ) -> Reaction | None:
        """The one reaction a single-slot peer holds: the oldest it can show."""
        for reaction in sorted(mine, key=lambda r: r.id):
            if _sendable(reaction, customs.get(reaction.custom_emoji_id or 0), dialect):
                return reaction
        return None

    def _activity(
        self,
        dialect: Dialect,
        reaction: Reaction,
        custom: CustomEmoji | None,
        actor: str,
        post: Post,
    ) -> JsonObject:
        return reaction_json(
            dialect,
            id=reaction.uri or reaction_url(actor, reaction.id),
            actor=actor,
            object_id=post.uri,
            emoji=reaction.emoji,
            tag=self.tag_for(custom) if custom is not None else None,
        )

    def _relays(
        self,
        reaction: Reaction,
        custom: CustomEmoji | None,
        actor: str,
        post: Post,
        *,
        undo: bool = False,
    ) -> dict[Dialect, JsonObject | None]:
        """The reaction (or its Undo) in every dialect, for our community (when the post is
        in one) to relay to each member's server in its own. None where a dialect may not
        carry it (instance-only emoji; a reaction a favourite would misrepresent)."""
        build = self._undo if undo else self._activity
        return {
            dialect: build(dialect, reaction, custom, actor, post)
            if _sendable(reaction, custom, dialect)
            else None
            for dialect in Dialect
        }

    def _undo(
        self,
        dialect: Dialect,
        reaction: Reaction,
        custom: CustomEmoji | None,
        actor: str,
        post: Post,
    ) -> JsonObject:
        made = self._activity(dialect, reaction, custom, actor, post)
        return undo_json(id=undo_id(made["id"]), actor=actor, object=made)

    async def summary(
        self, posts: Sequence[Post], viewer: Account | None
    ) -> dict[int, list[EmojiCount]]:
        """Emoji counts for the cards shown (a boost shows its original's), by shown id."""
        ids = [p.reblog_of_id or p.id for p in posts]
        async with self.db.begin() as session:
            return await reactions.counts(session, ids, viewer.id if viewer else None)
