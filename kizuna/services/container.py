"""The services one app (or CLI command) uses, built from a Config and a Database."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import aiohttp

from kizuna.config import Config
from kizuna.federation.client import FederationClient, FetchLimits, RequestSigner
from kizuna.federation.delivery import DeliveryWorker
from kizuna.federation.keyring import KeyRing
from kizuna.federation.lookup import RemoteAccountService
from kizuna.federation.peers import PeerSchemes, PeerSoftware
from kizuna.federation.policy import FederationPolicy
from kizuna.federation.signatures import load_private_key_pem
from kizuna.inbox.notes import NoteStore
from kizuna.inbox.processor import InboxProcessor
from kizuna.inbox.rejections import InboxAccounting
from kizuna.inbox.service import InboxService
from kizuna.outbox.sender import Outbox
from kizuna.outbox.service import PublishingService
from kizuna.outbox.urls import instance_urls
from kizuna.realtime.hub import LiveHub
from kizuna.services.account_moderation import AccountModeration
from kizuna.services.accounts import AccountService, utcnow
from kizuna.services.blocklist_subscriptions import BlocklistSubscriptions
from kizuna.services.blocks import BlockService
from kizuna.services.communities import CommunityService
from kizuna.services.community_moderation import CommunityModeration
from kizuna.services.custom_emoji import CustomEmojiService
from kizuna.services.domain_policy import DomainPolicyService
from kizuna.services.domain_purge import DomainPurger
from kizuna.services.federation_health import FederationHealth
from kizuna.services.follows import FollowService
from kizuna.services.interactions import InteractionService
from kizuna.services.live import LiveService
from kizuna.services.media import MediaStore
from kizuna.services.posts import PostService
from kizuna.services.reactions import ReactionService
from kizuna.services.reports import ReportService
from kizuna.services.settings import SettingsService
from kizuna.services.timelines import TimelineService
from kizuna.storage.engine import Database
from kizuna.webfinger.service import DiscoveryService


@dataclass(frozen=True, slots=True, kw_only=True)
class Services:
    config: Config
    db: Database
    settings: SettingsService
    media: MediaStore
    accounts: AccountService
    posts: PostService
    timelines: TimelineService
    follows: FollowService
    federation: FederationClient
    remote_accounts: RemoteAccountService
    publishing: PublishingService
    discovery: DiscoveryService
    keyring: KeyRing
    inbox: InboxService
    outbox: Outbox
    delivery: DeliveryWorker
    processor: InboxProcessor
    interactions: InteractionService
    reactions: ReactionService
    communities: CommunityService
    moderation: CommunityModeration
    custom_emoji: CustomEmojiService
    policy: FederationPolicy
    domain_purger: DomainPurger
    inbox_accounting: InboxAccounting
    federation_health: FederationHealth
    account_moderation: AccountModeration
    reports: ReportService
    domain_policy: DomainPolicyService
    blocklists: BlocklistSubscriptions
    blocks: BlockService
    hub: LiveHub
    live: LiveService

    @classmethod
    def build(cls, config: Config, db: Database, http: aiohttp.ClientSession) -> Services:
        settings = SettingsService(db)
        policy = FederationPolicy(db, own_hosts=config.own_hosts)
        media = MediaStore(config.media_dir, max_bytes=config.max_upload_bytes)
        federation = FederationClient(
            http,
            user_agent=config.user_agent,
            host_map=config.federation_hosts,
            allow_private=config.allow_private_addresses,
            limits=FetchLimits(total_seconds=config.fetch_timeout),
        )
        publishing = PublishingService(db, config)
        outbox = Outbox(config, publishing, utcnow)
        accounts = AccountService(db, config, settings, media, outbox)
        software = PeerSoftware(db, federation)
        remote_accounts = RemoteAccountService(db, config, federation, software=software)
        keyring = KeyRing(db, remote_accounts)
        federation.schemes = PeerSchemes(db)
        federation.gate = policy
        delivery = DeliveryWorker(db, federation, base_url=config.base_url)
        outbox.on_enqueue(delivery.wakeup.set)
        follows = FollowService(db, outbox)
        custom_emoji = CustomEmojiService(db, config, media, federation, utcnow)
        reactions = ReactionService(
            db, config, outbox, software, custom_emoji.tag_for, limit=config.reactions_per_post
        )
        posts = PostService(db, config, outbox, custom_emoji)
        inbox_accounting = InboxAccounting(db)
        account_moderation = AccountModeration(db, config, outbox, accounts, media)
        purger = DomainPurger(db)
        domain_policy = DomainPolicyService(db, policy, purger)
        interactions = InteractionService(db, config, outbox, reactions)
        processor = InboxProcessor(
            db,
            config,
            outbox,
            NoteStore(federation, remote_accounts, custom_emoji, utcnow),
            custom_emoji.remote,
            policy=policy,
        )
        # Queue rows committed here or in another process wake the workers at once.
        hub = LiveHub()
        hub.on_wake("delivery", delivery.wakeup.set)
        hub.on_wake("inbox", processor.wakeup.set)
        return cls(
            config=config,
            db=db,
            settings=settings,
            media=media,
            accounts=accounts,
            posts=posts,
            timelines=TimelineService(db, policy),
            follows=follows,
            federation=federation,
            remote_accounts=remote_accounts,
            publishing=publishing,
            discovery=DiscoveryService(db, config, settings),
            keyring=keyring,
            inbox=InboxService(db, config, keyring, policy),
            outbox=outbox,
            delivery=delivery,
            processor=processor,
            interactions=interactions,
            reactions=reactions,
            communities=CommunityService(
                db,
                config.base_url,
                config.domain,
                media,
                follows,
                posts,
                remote_accounts,
                outbox,
                config.key_source,
            ),
            moderation=CommunityModeration(db, outbox, follows),
            custom_emoji=custom_emoji,
            policy=policy,
            domain_purger=purger,
            inbox_accounting=inbox_accounting,
            federation_health=FederationHealth(db, policy, inbox_accounting, delivery.wakeup.set),
            account_moderation=account_moderation,
            reports=ReportService(db, config, outbox, accounts, account_moderation),
            domain_policy=domain_policy,
            blocklists=BlocklistSubscriptions(db, federation, domain_policy),
            blocks=BlockService(db, config, outbox),
            hub=hub,
            live=LiveService(db, hub, interactions),
        )

    async def start(self) -> None:
        """Make sure the instance actor exists; it signs every fetch from now on."""
        instance = await self.accounts.instance_actor()
        assert instance.private_key_pem is not None
        self.federation.signer = RequestSigner(
            key_id=instance_urls(self.config.base_url).key_id,
            private_key=load_private_key_pem(instance.private_key_pem),
        )
        await self.custom_emoji.refresh()
        await self.policy.reload()

    async def run_live(self, stop: asyncio.Event) -> None:
        """Commits become hints for live pages and workers until `stop` is set (serve and
        `kizuna worker`); across processes through PostgreSQL LISTEN/NOTIFY."""
        stop_capturing = self.db.on_commit(self.hub.capture)
        try:
            if self.db.is_sqlite:
                await stop.wait()  # one process per SQLite database: nobody else to tell
                return
            # asyncpg is the optional `postgres` extra: imported only when PostgreSQL is used.
            from kizuna.realtime.pg_bridge import PgBridge

            url = self.db.engine.url.render_as_string(hide_password=False)
            bridge = PgBridge(url, self.hub)
            self.hub.relay = bridge
            await bridge.run(stop)
        finally:
            self.hub.relay = None
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
