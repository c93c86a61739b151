"""The composition root: the services one app (or CLI command) uses, built from a Config, a
Database and an HTTP session. Every object gets its dependencies in its constructor; build()
goes bottom up in named steps (transport, domain, moderation, inbound, live)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, fields
from typing import Any

import aiohttp

from kizuna.activitypub.ids import instance_urls
from kizuna.actors.documents import ActorDocuments
from kizuna.clock import utcnow
from kizuna.config import Config
from kizuna.federation.client import FederationClient, FetchLimits, InstanceKey
from kizuna.federation.delivery import DeliveryWorker
from kizuna.federation.keyring import KeyRing
from kizuna.federation.lookup import RemoteAccountService
from kizuna.federation.peers import PeerSchemes, PeerSoftware
from kizuna.federation.policy import FederationPolicy
from kizuna.inbox.notes import NoteStore
from kizuna.inbox.processor import InboxProcessor
from kizuna.inbox.service import InboxService
from kizuna.outbox.outbox import Outbox
from kizuna.realtime.broker import Broker
from kizuna.realtime.hub import LiveHub
from kizuna.services.account_moderation import AccountModeration
from kizuna.services.accounts import AccountService
from kizuna.services.blocklist_subscriptions import BlocklistSubscriptions
from kizuna.services.blocks import BlockService
from kizuna.services.communities import CommunityService
from kizuna.services.community_moderation import CommunityModeration
from kizuna.services.custom_emoji import CustomEmojiService
from kizuna.services.domain_policy import DomainPolicyService
from kizuna.services.domain_purge import DomainPurger
from kizuna.services.federation_health import FederationHealth
from kizuna.services.follows import FollowService
from kizuna.services.inbox_accounting import InboxAccounting
from kizuna.services.interactions import InteractionService
from kizuna.services.live import LiveService
from kizuna.services.media import MediaStore
from kizuna.services.posts import PostService
from kizuna.services.reactions import ReactionService
from kizuna.services.reports import ReportService
from kizuna.services.settings import SettingsService
from kizuna.services.surface import Surface
from kizuna.services.timelines import TimelineService
from kizuna.storage.engine import Database
from kizuna.webfinger.service import DiscoveryService


@dataclass(frozen=True, kw_only=True)
class _Transport:
    """Talking to other servers: one HTTP client, the domain policy it obeys, the keys and
    accounts it fetches, and the worker that delivers."""

    policy: FederationPolicy
    instance_key: InstanceKey
    federation: FederationClient
    software: PeerSoftware
    remote_accounts: RemoteAccountService
    keyring: KeyRing
    delivery: DeliveryWorker


def _transport(config: Config, db: Database, http: aiohttp.ClientSession) -> _Transport:
    policy = FederationPolicy(db, own_hosts=config.own_hosts)
    instance_key = InstanceKey()
    federation = FederationClient(
        http,
        user_agent=config.user_agent,
        host_map=config.federation_hosts,
        allow_private=config.allow_private_addresses,
        instance_key=instance_key,
        schemes=PeerSchemes(db),
        gate=policy,
        limits=FetchLimits(total_seconds=config.fetch_timeout),
    )
    software = PeerSoftware(db, federation)
    remote_accounts = RemoteAccountService(db, config, federation, software=software)
    return _Transport(
        policy=policy,
        instance_key=instance_key,
        federation=federation,
        software=software,
        remote_accounts=remote_accounts,
        keyring=KeyRing(db, remote_accounts),
        delivery=DeliveryWorker(db, federation, base_url=config.base_url),
    )


@dataclass(frozen=True, kw_only=True)
class _Domain:
    """What local people do: accounts, posts, follows, reactions, communities; each change
    that others must hear of goes out through the outbox."""

    settings: SettingsService
    media: MediaStore
    documents: ActorDocuments
    outbox: Outbox
    surface: Surface
    accounts: AccountService
    follows: FollowService
    custom_emoji: CustomEmojiService
    reactions: ReactionService
    posts: PostService
    interactions: InteractionService
    timelines: TimelineService
    communities: CommunityService
    moderation: CommunityModeration
    blocks: BlockService


def _domain(config: Config, db: Database, net: _Transport) -> _Domain:
    settings = SettingsService(db)
    media = MediaStore(config.media_dir, max_bytes=config.max_upload_bytes)
    documents = ActorDocuments(db, config)
    outbox = Outbox(config, documents, utcnow)
    surface = Surface(config)  # what actions leave for the people they concern
    follows = FollowService(db, outbox, surface)
    custom_emoji = CustomEmojiService(db, config, media, net.federation, utcnow)
    reactions = ReactionService(
        db,
        config,
        outbox,
        net.software,
        custom_emoji.tag_for,
        surface,
        limit=config.reactions_per_post,
    )
    posts = PostService(db, config, outbox, custom_emoji, surface)
    return _Domain(
        settings=settings,
        media=media,
        documents=documents,
        outbox=outbox,
        surface=surface,
        accounts=AccountService(db, config, settings, media, outbox),
        follows=follows,
        custom_emoji=custom_emoji,
        reactions=reactions,
        posts=posts,
        interactions=InteractionService(db, config, outbox, reactions, surface),
        timelines=TimelineService(db, net.policy),
        communities=CommunityService(
            db,
            config.base_url,
            config.domain,
            media,
            follows,
            posts,
            net.remote_accounts,
            outbox,
            config.key_source,
        ),
        moderation=CommunityModeration(db, outbox, follows),
        blocks=BlockService(db, config, outbox),
    )


@dataclass(frozen=True, kw_only=True)
class _Moderation:
    """The instance's own moderation: accounts, reports, domain policy and its blocklist
    subscriptions, and the federation health figures they are decided on."""

    account_moderation: AccountModeration
    reports: ReportService
    domain_purger: DomainPurger
    domain_policy: DomainPolicyService
    blocklists: BlocklistSubscriptions
    inbox_accounting: InboxAccounting
    federation_health: FederationHealth


def _moderation(config: Config, db: Database, net: _Transport, core: _Domain) -> _Moderation:
    account_moderation = AccountModeration(
        db, config, core.outbox, core.accounts, core.media, core.surface
    )
    purger = DomainPurger(db)
    domain_policy = DomainPolicyService(db, net.policy, purger)
    inbox_accounting = InboxAccounting(db)
    return _Moderation(
        account_moderation=account_moderation,
        reports=ReportService(db, config, core.outbox, core.accounts, account_moderation),
        domain_purger=purger,
        domain_policy=domain_policy,
        blocklists=BlocklistSubscriptions(db, net.federation, domain_policy),
        inbox_accounting=inbox_accounting,
        federation_health=FederationHealth(db, net.policy, inbox_accounting),
    )


@dataclass(frozen=True, kw_only=True)
class _Inbound:
    """What other servers ask of us: discovery (WebFinger, NodeInfo), the inbox that checks
    and stores their activities, and the worker that applies them."""

    discovery: DiscoveryService
    inbox: InboxService
    processor: InboxProcessor


def _inbound(config: Config, db: Database, net: _Transport, core: _Domain) -> _Inbound:
    notes = NoteStore(net.federation, net.remote_accounts, core.custom_emoji, utcnow)
    return _Inbound(
        discovery=DiscoveryService(db, config, core.settings),
        inbox=InboxService(db, config, net.keyring, net.policy),
        processor=InboxProcessor(
            db,
            config,
            core.outbox,
            notes,
            core.custom_emoji.remote,
            core.surface,
            policy=net.policy,
        ),
    )


def _fields(step: _Transport | _Domain | _Moderation | _Inbound) -> dict[str, Any]:
    """A step's services by name, to be the same fields of Services."""
    return {f.name: getattr(step, f.name) for f in fields(step)}


def _hub(db: Database, net: _Transport, inbound: _Inbound) -> LiveHub:
    """Commits become hints for live pages and for the queue workers, which wake at once
    when rows are committed here or, through PostgreSQL, in another process."""
    broker = Broker(
        wake={"delivery": net.delivery.wakeup.set, "inbox": inbound.processor.wakeup.set}
    )
    if db.is_sqlite:
        return LiveHub(broker, relay=None)  # one process per SQLite database: nobody to tell
    # asyncpg is the optional `postgres` extra: imported only when PostgreSQL is used.
    from kizuna.realtime.pg_bridge import PgBridge

    url = db.engine.url.render_as_string(hide_password=False)
    return LiveHub(broker, relay=PgBridge(url, broker))


@dataclass(frozen=True, kw_only=True)
class Services(_Transport, _Domain, _Moderation, _Inbound):
    """Every service one process uses, each handed its dependencies when built (see build);
    the fields are the steps' own, so each service is named once."""

    config: Config
    db: Database
    hub: LiveHub
    live: LiveService

    @classmethod
    def build(cls, config: Config, db: Database, http: aiohttp.ClientSession) -> Services:
        """Bottom up, each step handed what the ones before it built."""
        net = _transport(config, db, http)
        core = _domain(config, db, net)
        admin = _moderation(config, db, net, core)
        inbound = _inbound(config, db, net, core)
        hub = _hub(db, net, inbound)
        return cls(
            config=config,
            db=db,
            hub=hub,
            live=LiveService(db, hub, core.interactions),
            **_fields(net),
            **_fields(core),
            **_fields(admin),
            **_fields(inbound),
        )

    async def start(self) -> None:
        """Make sure the instance actor exists; it signs every fetch from now on."""
        instance = await self.accounts.instance_actor()
        assert instance.private_key_pem is not None
        self.instance_key.load(instance_urls(self.config.base_url).key_id, instance.private_key_pem)
        await self.custom_emoji.refresh()
        await self.policy.reload()

    async def run_live(self, stop: asyncio.Event) -> None:
        """Commits become hints for live pages and workers until `stop` is set (serve and
        `kizuna worker`); across processes through PostgreSQL LISTEN/NOTIFY."""
        stop_capturing = self.db.on_commit(self.hub.capture)
        try:
            if self.hub.relay is None:
                await stop.wait()
            else:
                await self.hub.relay.run(stop)
        finally:
            stop_capturing()

    async def run_workers(self, stop: asyncio.Event) -> None:
        """Delivery and inbox processing until `stop` is set (serve and `kizuna worker`)."""
        await asyncio.gather(
            self.delivery.run_forever(stop),
            self.processor.run_forever(stop),
            self.domain_purger.run_forever(stop),
            self.account_moderation.run_forever(stop),
            self.blocklists.run_forever(stop),
        )
