"""What Kizuna publishes for others to fetch: actor documents, collections, notes."""

from __future__ import annotations

from dataclasses import replace

from kizuna.activitypub.actors import Image, LocalActor, ProfileField, actor_json
from kizuna.activitypub.collections import (
    collection_json,
    ordered_collection_json,
    ordered_collection_page_json,
)
from kizuna.activitypub.context import AS_CONTEXT, note_context, reaction_context
from kizuna.activitypub.emoji import images_to_text
from kizuna.activitypub.ids import (
    ActorUrls,
    collection_page,
    emoji_url,
    likes_url,
    local_actor_urls,
    media_url,
    moderators_url,
    outbox_first_page,
    outbox_last_page,
    outbox_next_page,
    outbox_page,
    reaction_url,
    reactions_url,
    status_page_url,
    status_reaction_id,
    status_url,
    tag_url,
    undo_id,
)
from kizuna.activitypub.notes import HashtagTag, MentionTag, NoteView, create_json, note_json
from kizuna.activitypub.reactions import Dialect, EmojiTag, reaction_json
from kizuna.activitypub.text import extract_shortcodes
from kizuna.activitypub.vocab import PUBLIC_VISIBILITIES, JsonObject, get_id, isoformat_z
from kizuna.config import Config
from kizuna.errors import NotFoundError
from kizuna.storage import blocks, communities, interactions, queue, reactions, repo
from kizuna.storage import emoji as emoji_storage
from kizuna.storage.engine import Database, Session
from kizuna.storage.models import Account, Community, CustomEmoji, Post

COLLECTION_PAGE = 40
OUTBOX_PAGE = 20
# Only these reach the outbox and /statuses/ unauthenticated; private and direct posts are
# served to signed requests from their audience once signatures are in place.
REACTIONS_PAGE = 100
MEDIA_TYPES = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}


def _media_type(path: str) -> str:
    return MEDIA_TYPES.get(path.rsplit(".", 1)[-1], "application/octet-stream")


def _image(base_url: str, path: str | None) -> Image | None:
    if not path:
        return None
    return Image(url=media_url(base_url, path), media_type=_media_type(path))


def emoji_tag(emoji: CustomEmoji, base_url: str) -> EmojiTag:
    """One of ours as other servers read it (an `Emoji` tag, or /emoji/{shortcode})."""
    path = emoji.image_path or ""
    return EmojiTag(
        id=emoji_url(base_url, emoji.shortcode),
        shortcode=emoji.shortcode,
        url=media_url(base_url, path),
        media_type=_media_type(path),
        updated=isoformat_z(emoji.updated_at),
    )


class ActorDocuments:
    def __init__(self, db: Database, config: Config) -> None:
        self.db = db
        self.config = config

    def _urls(self, account: Account) -> ActorUrls:
        return local_actor_urls(self.config.base_url, account.actor_type, account.username)

    async def _local_account(
        self, username: str, *, group: bool = False, suspended_ok: bool = False
    ) -> Account:
        """A local person (`/users/NAME`) or, with `group`, a community (`/c/SLUG`). A
        suspended account serves only its actor document (flagged); a purged one nothing."""
        async with self.db.begin() as session:
            account = await repo.get_account_by_username(session, username.casefold())
        if account is None or account.is_instance_actor or account.deleted_at:
            raise NotFoundError(f"no account named {username} here")
        if account.suspended_at is not None and not suspended_ok:
            raise NotFoundError(f"@{username} is suspended")
        if account.is_group != group:
            raise NotFoundError(f"no {'community' if group else 'account'} named {username} here")
        return account

    def _actor(self, account: Account) -> LocalActor:
        urls = self._urls(account)
        base = self.config.base_url
        is_instance = account.is_instance_actor
        if account.suspended_at is not None:
            return self._suspended_actor(account, urls)
        return LocalActor(
            id=urls.id,
            type=account.actor_type,
            username=account.username,
            name=account.display_name or ("" if is_instance else account.username),
            summary_html=account.note_html,
            url=urls.profile,
            inbox=urls.inbox,
            outbox=urls.outbox,
            followers=urls.followers,
            following=urls.following,
            featured=None if is_instance else urls.featured,
            featured_tags=None if is_instance else urls.featured_tags,
            shared_inbox=urls.shared_inbox,
            public_key_pem=account.public_key_pem or "",
            manually_approves_followers=account.locked,
            discoverable=account.discoverable,
            published=account.created_at,
            icon=_image(base, account.avatar_path),
            image=_image(base, account.header_path),
            fields=tuple(
                ProfileField(name=f["name"], value_html=f["value_html"])
                for f in (account.fields or [])
            ),
        )

    def _suspended_actor(self, account: Account, urls: ActorUrls) -> LocalActor:
        """What Mastodon's ActorSerializer shows of an unavailable account: its name, key and
        endpoints, nothing of the profile, `suspended: true`."""
        return LocalActor(
            id=urls.id,
            type=account.actor_type,
            username=account.username,
            name=account.username,
            summary_html="",
            url=urls.profile,
            inbox=urls.inbox,
            outbox=urls.outbox,
            followers=urls.followers,
            following=urls.following,
            featured=urls.featured,
            featured_tags=urls.featured_tags,
            shared_inbox=urls.shared_inbox,
            public_key_pem=account.public_key_pem or "",
            manually_approves_followers=False,
            discoverable=False,
            published=account.created_at,
            suspended=True,
        )

    def actor_document(self, account: Account, community: Community | None = None) -> JsonObject:
        """A person's document, or a community's in Lemmy's shape (with its `community`)."""
        actor = self._actor(account)
        if account.is_group:
            actor = replace(
                actor,
                moderators=moderators_url(account.uri),
                posting_restricted_to_mods=community is not None and community.posting_restricted,
            )
        return actor_json(actor)

    async def actor(self, username: str) -> JsonObject:
        return actor_json(self._actor(await self._local_account(username, suspended_ok=True)))

    async def instance_actor(self, account: Account) -> JsonObject:
        return actor_json(self._actor(account))

    async def group_actor(self, slug: str) -> JsonObject:
        """Lemmy's community shape: moderators as `attributedTo`, `postingRestrictedToMods`."""
        group = await self._local_account(slug, group=True)
        async with self.db.begin() as session:
            community = await communities.get_community(session, group.id)
        return self.actor_document(group, community)

    async def moderators(self, slug: str) -> JsonObject:
        group = await self._local_account(slug, group=True)
        async with self.db.begin() as session:
            mods = await communities.moderators(session, group.id)
        ids = [self._urls(account).id for account, _ in mods]
        return ordered_collection_json(
            id=moderators_url(group.uri), total_items=len(ids), items=ids
        )

    async def outbox(
        self, username: str, *, page: bool, max_id: int | None, group: bool = False
    ) -> JsonObject:
        account = await self._local_account(username, group=group)
        urls = self._urls(account)
        async with self.db.begin() as session:
            if group:
                return await self._group_outbox(session, account, page=page, max_id=max_id)
            if not page:
                total = await repo.count_account_posts(session, account.id, PUBLIC_VISIBILITIES)
                return ordered_collection_json(
                    id=urls.outbox,
                    total_items=total,
                    first=outbox_first_page(urls.outbox),
                    last=outbox_last_page(urls.outbox),
                )
            posts = await repo.account_timeline(
                session,
                account.id,
                visibilities=PUBLIC_VISIBILITIES,
                max_id=max_id,
                limit=OUTBOX_PAGE,
            )
            notes = await self.note_views(session, posts)
        next_page = (
            outbox_next_page(urls.outbox, posts[-1].id) if len(posts) == OUTBOX_PAGE else None
        )
        return ordered_collection_page_json(
            id=outbox_page(urls.outbox, max_id),
            part_of=urls.outbox,
            items=[create_json(n) for n in notes],
            next=next_page,
        )

    async def _group_outbox(
        self, session: Session, group: Account, *, page: bool, max_id: int | None
    ) -> JsonObject:
        """A community's threads as the Create activities its members sent."""
        outbox = self._urls(group).outbox
        if not page:
            total = (await communities.counts(session, [group.id]))[group.id][1]
            return ordered_collection_json(
                id=outbox, total_items=total, first=outbox_first_page(outbox)
            )
        posts = await communities.community_posts(
            session, group.id, max_id=max_id, limit=OUTBOX_PAGE
        )
        notes = await self.note_views(session, posts)
        return ordered_collection_page_json(
            id=outbox_page(outbox, max_id),
            part_of=outbox,
            items=[create_json(n) for n in notes],
            next=outbox_next_page(outbox, posts[-1].id) if len(posts) == OUTBOX_PAGE else None,
        )

    async def follow_collection(
        self, username: str, which: str, *, page: int | None, group: bool = False
    ) -> JsonObject:
        """`which` is "followers" or "following"; pages hold actor ids, newest first."""
        account = await self._local_account(username, group=group)
        return await self._follow_collection(account, which, page=page)

    async def instance_collection(
        self, account: Account, which: str, *, page: int | None
    ) -> JsonObject:
        """The instance actor's outbox (always empty: it posts nothing, as Mastodon's), and
        its followers and following."""
        if which == "outbox":
            return ordered_collection_json(id=self._urls(account).outbox, total_items=0, items=[])
        return await self._follow_collection(account, which, page=page)

    async def _follow_collection(
        self, account: Account, which: str, *, page: int | None
    ) -> JsonObject:
        collection_id = getattr(self._urls(account), which)
        async with self.db.begin() as session:
            if page is None:
                following, followers = await repo.follow_counts(session, account.id)
                total = followers if which == "followers" else following
                return ordered_collection_json(
                    id=collection_id, total_items=total, first=collection_page(collection_id, 1)
                )
            query = repo.follower_uris if which == "followers" else repo.following_uris
            uris = await query(
                session,
                account.id,
                offset=(page - 1) * COLLECTION_PAGE,
                limit=COLLECTION_PAGE + 1,
            )
        more = len(uris) > COLLECTION_PAGE
        return ordered_collection_page_json(
            id=collection_page(collection_id, page),
            part_of=collection_id,
            items=list(uris[:COLLECTION_PAGE]),
            next=collection_page(collection_id, page + 1) if more else None,
            prev=collection_page(collection_id, page - 1) if page > 1 else None,
        )

    async def featured(self, username: str, *, group: bool = False) -> JsonObject:
        """A community's pinned threads (Lemmy's featured); people pin nothing yet."""
        account = await self._local_account(username, group=group)
        featured = self._urls(account).featured
        if not group:
            return ordered_collection_json(id=featured, total_items=0, items=[])
        async with self.db.begin() as session:
            notes = await self.note_views(
                session, await communities.pinned_posts(session, account.id)
            )
        items = [note_json(n, with_context=False) for n in notes]
        return ordered_collection_json(
            id=featured, total_items=len(items), items=items, context=note_context()
        )

    async def featured_tags(self, username: str, *, group: bool = False) -> JsonObject:
        """Mastodon's featured hashtags (`Hashtag` items with href and name), a `Collection`
        as Mastodon serves it; nobody can feature a tag here yet, so it is honestly empty."""
        account = await self._local_account(username, group=group)
        return collection_json(id=self._urls(account).featured_tags, items=[])

    async def _public_post(self, session: Session, username: str, post_id: int) -> Post:
        account = await self._local_account(username)
        post = await repo.get_post(session, post_id)
        if (
            post is None
            or post.account_id != account.id
            or post.visibility not in PUBLIC_VISIBILITIES
        ):
            raise NotFoundError("no such post")
        return post

    async def note(self, username: str, post_id: int, *, activity: bool = False) -> JsonObject:
        async with self.db.begin() as session:
            post = await self._public_post(session, username, post_id)
            (view,) = await self.note_views(session, [post])
        return create_json(view) if activity else note_json(view)

    async def likes(self, username: str, post_id: int) -> JsonObject:
        """Only the count, as Mastodon publishes it."""
        async with self.db.begin() as session:
            post = await self._public_post(session, username, post_id)
            count = (await reactions.count_likes(session, [post.id]))[post.id]
        note_id = status_url(self.config.base_url, post.account.username, post.id)
        return {
            "@context": AS_CONTEXT,
            "id": likes_url(note_id),
            "type": "Collection",
            "totalItems": count,
        }

    async def emoji_reactions(self, username: str, post_id: int) -> JsonObject:
        """FEP-c0e0: the reactions themselves (the first REACTIONS_PAGE), each as the type
        it came in: Akkoma's `EmojiReact` stays one, the rest are Misskey-shaped `Like`s."""
        async with self.db.begin() as session:
            post = await self._public_post(session, username, post_id)
            given = await reactions.for_post(session, post.id, limit=REACTIONS_PAGE)
            actors = {
                a.id: a
                for a in await repo.get_accounts_by_ids(session, [r.account_id for r in given])
            }
            total = await reactions.count(session, post.id)
        note_id = status_url(self.config.base_url, post.account.username, post.id)
        items = [
            reaction_json(
                Dialect.AKKOMA if r.activity_type == "EmojiReact" else Dialect.KIZUNA,
                id=r.uri or status_reaction_id(note_id, r.id),
                actor=actors[r.account_id].uri,
                object_id=note_id,
                emoji=reactions.display_name(r),
            )
            for r in given
            if r.account_id in actors
            and not (r.custom_emoji is not None and r.custom_emoji.local_only)
        ]
        for item in items:
            item.pop("@context", None)
        return ordered_collection_json(
            id=reactions_url(note_id),
            total_items=total,
            items=items,
            context=reaction_context(),
        )

    async def reaction_activity(
        self, username: str, reaction_id: int, *, undo: bool = False
    ) -> JsonObject:
        """One of our reactions (or its Undo) exactly as we sent it, so that a group's relay
        of it can be checked at its origin (kizuna/inbox/community.py). Served as the reacted
        post is: 404 unless it is public or unlisted (and held). A reaction taken back is
        404, as Mastodon answers for anything deleted: a relayed copy arriving late must not
        bring it back; its Undo stays served instead. Misskey serves /likes/ID the same way
        (404 once unreacted or for a non-public note); Akkoma serves /activities/UUID only
        to those who may see the activity."""
        account = await self._local_account(username)
        made = reaction_url(self._urls(account).id, reaction_id)
        async with self.db.begin() as session:
            sent = await queue.sent_activity(session, undo_id(made) if undo else made)
            if sent is None or sent.account_id != account.id:
                raise NotFoundError("no such reaction")  # never made, or never sent
            reaction = await interactions.get_reaction_by_uri(session, made)
            if undo:
                if reaction is not None or sent.activity_type != "Undo":
                    raise NotFoundError("this reaction stands: it has no Undo")
                undone = sent.raw.get("object")
                post_uri = get_id(undone.get("object")) if isinstance(undone, dict) else None
                post = await repo.get_post_by_uri(session, post_uri) if post_uri else None
            else:
                if reaction is None or reaction.account_id != account.id:
                    raise NotFoundError("this reaction was taken back")
                post = await repo.get_post(session, reaction.post_id)
            if post is None or post.visibility not in PUBLIC_VISIBILITIES:
                raise NotFoundError("no such reaction")
            return dict(sent.raw)

    async def note_views(self, session: Session, posts: list[Post]) -> list[NoteView]:
        ids = [p.id for p in posts]
        posts_by_id = {p.id: p for p in posts}
        mentions = await repo.mentions_for_posts(session, ids)
        # Never address an account the author blocked or that blocked the author
        # (Mastodon's ProcessMentionsService drops such mentions).
        walls = await blocks.blocked_pairs(
            session,
            {p.account_id for p in posts if mentions[p.id]},
            {a.id for found in mentions.values() for a in found},
        )
        if walls:
            mentions = {
                pid: [a for a in found if (posts_by_id[pid].account_id, a.id) not in walls]
                for pid, found in mentions.items()
            }
        tags = await repo.tags_for_posts(session, ids)
        base = self.config.base_url
        groups = {
            cid: await session.get(Account, cid)
            for cid in {p.community_id for p in posts if p.community_id}
        }
        likes = await reactions.count_likes(session, ids)
        shortcodes = {p.id: extract_shortcodes(p.content_source) for p in posts if p.local}
        custom = await emoji_storage.get_many_local(
            session, (code for codes in shortcodes.values() for code in codes)
        )
        views = []
        for post in posts:
            author = post.account
            group = groups.get(post.community_id) if post.community_id else None
            views.append(
                NoteView(
                    id=status_url(base, author.username, post.id),
                    url=post.url or status_page_url(base, author.username, post.id),
                    attributed_to=self._urls(author).id,
                    # Peers draw custom emoji from the tags: the content names them as text.
                    content_html=images_to_text(post.content_html),
                    summary=post.summary or None,
                    sensitive=post.sensitive,
                    visibility=post.visibility,
                    followers_url=self._urls(author).followers,
                    published=post.created_at,
                    updated=post.updated_at,
                    in_reply_to=post.in_reply_to_uri,
                    mentions=tuple(
                        MentionTag(
                            href=a.uri, name=f"@{a.username}@{a.domain or self.config.domain}"
                        )
                        for a in mentions[post.id]
                    ),
                    hashtags=tuple(
                        HashtagTag(href=tag_url(base, t), name=f"#{t}") for t in tags[post.id]
                    ),
                    language=post.language,
                    audience=group.uri if group is not None else None,
                    likes=likes[post.id],
                    emojis=tuple(
                        emoji_tag(e, base)
                        for code in shortcodes.get(post.id, ())
                        if (e := custom.get(code)) is not None and not e.local_only and e.image_path
                    ),
                )
            )
        return views
