"""Tables. Local and remote accounts share one table: a local one has domain '' and a key pair."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from kizuna.activitypub.vocab import ActorType, Visibility
from kizuna.storage.ids import new_id
from kizuna.storage.states import (
    CommunityRank,
    DeliveryState,
    FollowState,
    ReportState,
    Role,
    Severity,
)

E = TypeVar("E", bound=StrEnum)


class Base(AsyncAttrs, DeclarativeBase):
    pass


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _tz() -> UTCDateTime:
    return UTCDateTime()


class StrEnumType(TypeDecorator[E]):
    """A StrEnum kept as its plain value in a VARCHAR: the schema and the stored strings are
    what a `String` column held (no migration); rows read back as members, and a value
    outside the enum is refused on the way in."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        return None if value is None else self.enum(value)


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("username_key", "domain", name="uq_accounts_username"),
        # Every timeline query leaves out suspended accounts (repo.NOT_SUSPENDED). Partial:
        # SQLite reads a plain index for `IS NOT NULL` only with statistics it lacks.
        Index(
            "ix_accounts_suspended",
            "suspended_at",
            sqlite_where=text("suspended_at IS NOT NULL"),
            postgresql_where=text("suspended_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64))
    # casefolded username: uniqueness is case-insensitive, as Mastodon's.
    username_key: Mapped[str] = mapped_column(String(64))
    domain: Mapped[str] = mapped_column(String(255), default="")
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    url: Mapped[str | None] = mapped_column(String(2048))
    actor_type: Mapped[ActorType] = mapped_column(
        StrEnumType(ActorType, 32), default=ActorType.PERSON
    )
    display_name: Mapped[str] = mapped_column(String(255), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    note_html: Mapped[str] = mapped_column(Text, default="")
    # Profile fields: [{"name": …, "value": source text, "value_html": …}]
    fields: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    avatar_path: Mapped[str | None] = mapped_column(String(255))
    avatar_remote_url: Mapped[str | None] = mapped_column(String(2048))
    header_path: Mapped[str | None] = mapped_column(String(255))
    header_remote_url: Mapped[str | None] = mapped_column(String(2048))
    inbox_url: Mapped[str | None] = mapped_column(String(2048))
    shared_inbox_url: Mapped[str | None] = mapped_column(String(2048))
    outbox_url: Mapped[str | None] = mapped_column(String(2048))
    followers_url: Mapped[str | None] = mapped_column(String(2048))
    following_url: Mapped[str | None] = mapped_column(String(2048))
    featured_url: Mapped[str | None] = mapped_column(String(2048))
    public_key_id: Mapped[str | None] = mapped_column(String(2048), index=True)
    public_key_pem: Mapped[str | None] = mapped_column(Text)
    private_key_pem: Mapped[str | None] = mapped_column(Text)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    discoverable: Mapped[bool] = mapped_column(Boolean, default=True)
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # When a remote actor document was last fetched (refreshed when stale).
    fetched_at: Mapped[datetime | None] = mapped_column(_tz())
    # Set when the account announced a Move that its new account confirms (alsoKnownAs).
    moved_to_uri: Mapped[str | None] = mapped_column(String(2048))
    # Set when its server deleted it; its posts and follows are gone, the row remains.
    deleted_at: Mapped[datetime | None] = mapped_column(_tz())
    # Instance moderation: limited (hidden from public feeds) and suspended (gone from view,
    # data kept for the grace period, then purged). Reversible while set.
    silenced_at: Mapped[datetime | None] = mapped_column(_tz())
    suspended_at: Mapped[datetime | None] = mapped_column(_tz())
    created_at: Mapped[datetime] = mapped_column(_tz())
    updated_at: Mapped[datetime] = mapped_column(_tz())

    @property
    def is_local(self) -> bool:
        return self.domain == ""

    # Queries test `Account.actor_type` against ActorType themselves: these are plain
    # properties (a hybrid's `not Account.is_group` would quietly be a constant).
    @property
    def is_group(self) -> bool:
        """A community (ours at /c/SLUG, or another server's)."""
        return self.actor_type == ActorType.GROUP

    @property
    def is_instance_actor(self) -> bool:
        """A server's own actor (an Application: ours signs fetches at /actor, Mastodon's
        likewise): nobody to follow, block, report or moderate."""
        return self.actor_type == ActorType.APPLICATION

    @property
    def acct(self) -> str:
        return self.username if self.is_local else f"{self.username}@{self.domain}"

    @property
    def name(self) -> str:
        return self.display_name or self.username


class User(Base):
    """Log-in data of a local account (Mastodon's users/accounts split)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), unique=True
    )
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(StrEnumType(Role, 16), default=Role.USER)
    approved: Mapped[bool] = mapped_column(Boolean, default=True)
    sign_up_reason: Mapped[str] = mapped_column(Text, default="")
    # The mixi2 feed rule: one post from a joined community every N home items; 0 turns it off.
    community_feed_every: Mapped[int] = mapped_column(Integer, default=5)
    created_at: Mapped[datetime] = mapped_column(_tz())
    last_login_at: Mapped[datetime | None] = mapped_column(_tz())

    account: Mapped[Account] = relationship(lazy="raise")

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_moderator(self) -> bool:
        """Moderators handle reports and accounts; admins also everything else."""
        return self.role in (Role.ADMIN, Role.MODERATOR)


class LoginSession(Base):
    __tablename__ = "sessions"

    # sha256 of the cookie token: a leaked table does not yield usable cookies.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(_tz())
    expires_at: Mapped[datetime] = mapped_column(_tz())
    user_agent: Mapped[str] = mapped_column(String(255), default="")


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (
        Index("ix_posts_account_id_id", "account_id", "id"),
        Index("ix_posts_local_visibility_id", "local", "visibility", "id"),
        Index("ix_posts_community_id_id", "community_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    url: Mapped[str | None] = mapped_column(String(2048))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    local: Mapped[bool] = mapped_column(Boolean, default=True)
    content_source: Mapped[str] = mapped_column(Text, default="")
    content_html: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    visibility: Mapped[Visibility] = mapped_column(
        StrEnumType(Visibility, 16), default=Visibility.PUBLIC
    )
    language: Mapped[str | None] = mapped_column(String(16))
    in_reply_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="SET NULL"), index=True
    )
    in_reply_to_uri: Mapped[str | None] = mapped_column(String(2048))
    # A boost is a post of its own pointing at the boosted one (Mastodon's reblog).
    reblog_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), index=True
    )
    # The community (a Group account, ours or remote) the post was made in (FEP-1b12 audience).
    community_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    # Pinned by the community's moderators (its featured collection).
    pinned_at: Mapped[datetime | None] = mapped_column(_tz())
    created_at: Mapped[datetime] = mapped_column(_tz())
    updated_at: Mapped[datetime | None] = mapped_column(_tz())

    account: Mapped[Account] = relationship(lazy="raise", foreign_keys=[account_id])
    community: Mapped[Account | None] = relationship(lazy="raise", foreign_keys=[community_id])
    reblog_of: Mapped[Post | None] = relationship(
        remote_side="Post.id", foreign_keys=[reblog_of_id], lazy="raise"
    )


class PostTag(Base):
    __tablename__ = "post_tags"
    __table_args__ = (Index("ix_post_tags_tag_post_id", "tag", "post_id"),)

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(255), primary_key=True)


class PostMention(Base):
    __tablename__ = "post_mentions"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Follow(Base):
    __tablename__ = "follows"
    __table_args__ = (
        UniqueConstraint("account_id", "target_account_id", name="uq_follows_pair"),
        Index("ix_follows_target_state", "target_account_id", "state"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    target_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    state: Mapped[FollowState] = mapped_column(
        StrEnumType(FollowState, 16), default=FollowState.ACCEPTED
    )
    uri: Mapped[str | None] = mapped_column(String(2048), unique=True)
    created_at: Mapped[datetime] = mapped_column(_tz())


class InboxActivity(Base):
    """An accepted, verified activity, stored before the 202: processed later, exactly once."""

    __tablename__ = "inbox_activities"
    __table_args__ = (Index("ix_inbox_activities_pending", "processed_at", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    activity_id: Mapped[str] = mapped_column(String(2048), unique=True)
    activity_type: Mapped[str] = mapped_column(String(64))
    actor_uri: Mapped[str] = mapped_column(String(2048))
    signer_key_id: Mapped[str] = mapped_column(String(2048))
    # The local actor whose inbox it came to; None for the shared inbox.
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    raw: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(_tz())
    processed_at: Mapped[datetime | None] = mapped_column(_tz())
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    lease_until: Mapped[datetime | None] = mapped_column(_tz())
    lease_owner: Mapped[str | None] = mapped_column(String(32))


class PeerDomain(Base):
    """What we have learnt about another server: signature scheme, delivery health."""

    __tablename__ = "peer_domains"

    domain: Mapped[str] = mapped_column(String(255), primary_key=True)
    # "cavage" or "rfc9421": the HTTP signature scheme it last accepted from us.
    signature_scheme: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(_tz())
    # Circuit breaker: failing since when; while unavailable only a probe now and then.
    failing_since: Mapped[datetime | None] = mapped_column(_tz())
    unavailable: Mapped[bool] = mapped_column(Boolean, default=False)
    next_probe_at: Mapped[datetime | None] = mapped_column(_tz())
    last_success_at: Mapped[datetime | None] = mapped_column(_tz())
    # NodeInfo software.name ("mastodon", "misskey", "akkoma", …): picks the reaction dialect.
    software: Mapped[str | None] = mapped_column(String(64))
    software_checked_at: Mapped[datetime | None] = mapped_column(_tz())
    # Last activity accepted into our inbox from this domain (federation health).
    last_inbox_at: Mapped[datetime | None] = mapped_column(_tz())


class OutboxActivity(Base):
    """An activity we sent (or are sending): the source of its delivery rows."""

    __tablename__ = "outbox_activities"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    activity_id: Mapped[str] = mapped_column(String(2048), unique=True)
    activity_type: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="SET NULL"), index=True
    )
    raw: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(_tz())


class Delivery(Base):
    """One activity to one inbox: the durable queue. Workers lease due rows."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("outbox_activity_id", "inbox_url", name="uq_deliveries_target"),
        Index("ix_deliveries_due", "state", "priority", "next_attempt_at"),
        Index("ix_deliveries_domain_state", "domain", "state"),
        # The federation dashboard's last hour / day (delivered rows are kept).
        Index("ix_deliveries_finished", "finished_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    outbox_activity_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_activities.id", ondelete="CASCADE")
    )
    inbox_url: Mapped[str] = mapped_column(String(2048))
    domain: Mapped[str] = mapped_column(String(255))
    # Its lifecycle: kizuna.storage.lifecycles.DELIVERY.
    state: Mapped[DeliveryState] = mapped_column(
        StrEnumType(DeliveryState, 16), default=DeliveryState.PENDING
    )
    # 0: new activities first; 1: retries and bulk work wait behind them.
    priority: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(_tz())
    lease_until: Mapped[datetime | None] = mapped_column(_tz())
    # Who holds the lease: claiming is one conditional UPDATE, safe on SQLite and PostgreSQL.
    lease_owner: Mapped[str | None] = mapped_column(String(32))
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(_tz())
    finished_at: Mapped[datetime | None] = mapped_column(_tz())


class Reaction(Base):
    """A like (emoji "") or an emoji reaction: one model, federated in each peer's dialect."""

    __tablename__ = "reactions"
    __table_args__ = (
        UniqueConstraint("account_id", "post_id", "emoji", name="uq_reactions_once"),
        Index("ix_reactions_post", "post_id", "emoji"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    # "" a plain like (favourite); a Unicode emoji; or ":shortcode:" of `custom_emoji`.
    emoji: Mapped[str] = mapped_column(String(255), default="")
    custom_emoji_id: Mapped[int | None] = mapped_column(
        ForeignKey("custom_emojis.id", ondelete="CASCADE")
    )
    # The Like activity's id, to match its Undo (ours or a peer's).
    uri: Mapped[str | None] = mapped_column(String(2048), unique=True)
    created_at: Mapped[datetime] = mapped_column(_tz())
    # A peer's reaction: the type it came in as ("EmojiReact"); None: a Like (and ours).
    activity_type: Mapped[str | None] = mapped_column(String(16))

    custom_emoji: Mapped[CustomEmoji | None] = relationship(lazy="raise")


class CustomEmoji(Base):
    """`:shortcode:` images: ours (domain "", uploaded by admins) and other servers' (seen in
    their posts and reactions; the image cached here, size-capped)."""

    __tablename__ = "custom_emojis"
    __table_args__ = (UniqueConstraint("shortcode", "domain", name="uq_custom_emojis_code"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    shortcode: Mapped[str] = mapped_column(String(64))  # without colons
    domain: Mapped[str] = mapped_column(String(255), default="")
    # Under the media folder: ours always, a remote one once cached.
    image_path: Mapped[str | None] = mapped_column(String(255))
    remote_url: Mapped[str | None] = mapped_column(String(2048))
    # The Emoji object's id (the peer's URI for it), or ours.
    uri: Mapped[str | None] = mapped_column(String(2048))
    category: Mapped[str] = mapped_column(String(64), default="")
    # Instance-only: usable here, never sent to other servers.
    local_only: Mapped[bool] = mapped_column(Boolean, default=False)
    visible_in_picker: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(_tz())
    updated_at: Mapped[datetime] = mapped_column(_tz())

    @property
    def is_local(self) -> bool:
        return self.domain == ""


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_account_id", "account_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # follow | follow_request | mention | reply | boost | like | reaction
    kind: Mapped[str] = mapped_column(String(16))
    # For a reaction: the emoji ("" for a plain like), shown grouped per post; a custom one's
    # image comes from `custom_emoji`.
    emoji: Mapped[str | None] = mapped_column(String(255))
    custom_emoji_id: Mapped[int | None] = mapped_column(
        ForeignKey("custom_emojis.id", ondelete="SET NULL")
    )
    from_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(_tz())

    from_account: Mapped[Account] = relationship(foreign_keys=[from_account_id], lazy="raise")
    post: Mapped[Post | None] = relationship(lazy="raise")
    custom_emoji: Mapped[CustomEmoji | None] = relationship(lazy="raise")


class Community(Base):
    """What a local Group account needs beyond an account: rules, posting, activity."""

    __tablename__ = "communities"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    rules: Mapped[str] = mapped_column(Text, default="")
    # Lemmy's postingRestrictedToMods: only moderators start threads.
    posting_restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )
    # For the directory's "recent activity" order.
    last_post_at: Mapped[datetime | None] = mapped_column(_tz(), index=True)
    created_at: Mapped[datetime] = mapped_column(_tz())

    account: Mapped[Account] = relationship(lazy="raise", foreign_keys=[account_id])


class CommunityRole(Base):
    """Owner or moderator of a community; members are the Group's accepted followers."""

    __tablename__ = "community_roles"

    community_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[CommunityRank] = mapped_column(StrEnumType(CommunityRank, 16))
    created_at: Mapped[datetime] = mapped_column(_tz())


class CommunityBan(Base):
    __tablename__ = "community_bans"

    community_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    reason: Mapped[str] = mapped_column(Text, default="")
    # The Block activity's id (ours, or the remote group's), to match its Undo.
    uri: Mapped[str | None] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(_tz())


class ModerationLogEntry(Base):
    """Every moderator action in a community, kept for its members to read."""

    __tablename__ = "community_moderation_log"
    __table_args__ = (Index("ix_community_moderation_log", "community_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    community_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    moderator_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    # remove_post | ban | unban | approve | reject | pin | unpin | add_moderator
    action: Mapped[str] = mapped_column(String(32))
    target_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )
    # Not a foreign key: a removed post's uri stays readable in the log.
    post_uri: Mapped[str | None] = mapped_column(String(2048))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(_tz())

    moderator: Mapped[Account | None] = relationship(foreign_keys=[moderator_id], lazy="raise")
    target: Mapped[Account | None] = relationship(foreign_keys=[target_account_id], lazy="raise")


class InstanceSetting(Base):
    __tablename__ = "instance_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class DomainPolicy(Base):
    """An admin's decision about a remote domain; it covers the domain's subdomains too."""

    __tablename__ = "domain_policies"

    domain: Mapped[str] = mapped_column(String(255), primary_key=True)  # lowercase, punycode
    severity: Mapped[Severity] = mapped_column(StrEnumType(Severity, 16), default=Severity.SUSPEND)
    reject_media: Mapped[bool] = mapped_column(Boolean, default=False)
    reject_reports: Mapped[bool] = mapped_column(Boolean, default=False)
    public_comment: Mapped[str] = mapped_column(Text, default="")
    private_comment: Mapped[str] = mapped_column(Text, default="")
    obfuscate: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set when the policy came from a blocklist subscription.
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("blocklist_subscriptions.id", ondelete="SET NULL")
    )
    # A suspension's stored content and follows are removed in the background; set when done.
    purged_at: Mapped[datetime | None] = mapped_column(_tz())
    created_at: Mapped[datetime] = mapped_column(_tz())
    updated_at: Mapped[datetime] = mapped_column(_tz())


class AllowedDomain(Base):
    """Allow-list mode (limited federation): only these domains (and subdomains) federate."""

    __tablename__ = "allowed_domains"

    domain: Mapped[str] = mapped_column(String(255), primary_key=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(_tz())


class BlocklistSubscription(Base):
    """A Mastodon-format CSV blocklist fetched on a schedule; changes wait for the admin."""

    __tablename__ = "blocklist_subscriptions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    refresh_hours: Mapped[int] = mapped_column(Integer, default=24)
    last_fetched_at: Mapped[datetime | None] = mapped_column(_tz())
    next_fetch_at: Mapped[datetime | None] = mapped_column(_tz())
    last_error: Mapped[str | None] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(String(255))
    # Proposed changes from the last fetch, shown to the admin before they apply.
    pending: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(_tz())


class AccountBlock(Base):
    """A user blocks an account (local or remote); federated as Block."""

    __tablename__ = "account_blocks"
    __table_args__ = (
        UniqueConstraint("account_id", "target_account_id", name="uq_account_blocks"),
        Index("ix_account_blocks_target", "target_account_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    target_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    uri: Mapped[str | None] = mapped_column(String(2048))  # the Block activity's id
    created_at: Mapped[datetime] = mapped_column(_tz())

    target: Mapped[Account] = relationship(foreign_keys=[target_account_id], lazy="raise")


class AccountMute(Base):
    """A user mutes an account: hidden from their feeds (and notifications if asked)."""

    __tablename__ = "account_mutes"
    __table_args__ = (UniqueConstraint("account_id", "target_account_id", name="uq_account_mutes"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    target_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    notifications: Mapped[bool] = mapped_column(Boolean, default=True)
    expires_at: Mapped[datetime | None] = mapped_column(_tz())
    created_at: Mapped[datetime] = mapped_column(_tz())

    target: Mapped[Account] = relationship(foreign_keys=[target_account_id], lazy="raise")


class AccountDomainBlock(Base):
    """A user hides a whole remote domain (Mastodon's user domain block)."""

    __tablename__ = "account_domain_blocks"
    __table_args__ = (UniqueConstraint("account_id", "domain", name="uq_account_domain_blocks"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(_tz())


class AccountWarning(Base):
    """A moderator's strike on a local account (warn, limit, suspend), shown to its owner."""

    __tablename__ = "account_warnings"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    moderator_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(16))  # warn | silence | suspend
    text: Mapped[str] = mapped_column(Text, default="")
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(_tz())


class Report(Base):
    """A report by a local user, or a Flag received from another server (reporter = its actor)."""

    __tablename__ = "reports"
    __table_args__ = (Index("ix_reports_state", "state", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    target_account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    post_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    category: Mapped[str] = mapped_column(String(16), default="other")  # spam|legal|violation|other
    comment: Mapped[str] = mapped_column(Text, default="")
    # Incoming: the Flag's id. Outgoing: the Flag we sent, when forwarded.
    uri: Mapped[str | None] = mapped_column(String(2048), unique=True)
    origin_domain: Mapped[str] = mapped_column(String(255), default="")  # "" = local reporter
    forward: Mapped[bool] = mapped_column(Boolean, default=False)
    forwarded_at: Mapped[datetime | None] = mapped_column(_tz())
    state: Mapped[ReportState] = mapped_column(
        StrEnumType(ReportState, 16), default=ReportState.OPEN
    )
    assigned_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    action_taken: Mapped[str | None] = mapped_column(String(32))
    resolved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )
    resolved_at: Mapped[datetime | None] = mapped_column(_tz())
    created_at: Mapped[datetime] = mapped_column(_tz())
    updated_at: Mapped[datetime] = mapped_column(_tz())

    reporter: Mapped[Account] = relationship(foreign_keys=[reporter_id], lazy="raise")
    target: Mapped[Account] = relationship(foreign_keys=[target_account_id], lazy="raise")


class ReportNote(Base):
    __tablename__ = "report_notes"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(_tz())


class AuditLogEntry(Base):
    """Every instance moderation action: who, what, on what, when, why."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(48))  # e.g. domain.suspend, account.silence
    target_type: Mapped[str] = mapped_column(String(32))  # domain | account | report | setting…
    target: Mapped[str] = mapped_column(String(2048), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(_tz(), index=True)

    account: Mapped[Account | None] = relationship(foreign_keys=[account_id], lazy="raise")


class InboxRejection(Base):
    """Refused inbox requests, counted per 5-minute bucket, domain and reason (health view)."""

    __tablename__ = "inbox_rejections"

    bucket: Mapped[datetime] = mapped_column(_tz(), primary_key=True)
    domain: Mapped[str] = mapped_column(String(255), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


__all__ = [
    "Account",
    "AccountBlock",
    "AccountDomainBlock",
    "AccountMute",
    "AccountWarning",
    "AllowedDomain",
    "AuditLogEntry",
    "Base",
    "BlocklistSubscription",
    "Community",
    "CommunityBan",
    "CommunityRole",
    "CustomEmoji",
    "Delivery",
    "DomainPolicy",
    "Follow",
    "InboxActivity",
    "InboxRejection",
    "InstanceSetting",
    "LoginSession",
    "ModerationLogEntry",
    "Notification",
    "OutboxActivity",
    "PeerDomain",
    "Post",
    "PostMention",
    "PostTag",
    "Reaction",
    "Report",
    "ReportNote",
    "User",
]
