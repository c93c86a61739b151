"""The services one app (or CLI command) uses, built from a Config and a Database."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from kizuna.config import Config
from kizuna.federation.client import FederationClient, FetchLimits
from kizuna.federation.keyring import KeyRing
from kizuna.federation.lookup import RemoteAccountService
from kizuna.federation.peers import PeerSchemes
from kizuna.inbox.service import InboxService
from kizuna.outbox.service import PublishingService
from kizuna.services.accounts import AccountService
from kizuna.services.follows import FollowService
from kizuna.services.media import MediaStore
from kizuna.services.posts import PostService
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

    @classmethod
    def build(cls, config: Config, db: Database, http: aiohttp.ClientSession) -> Services:
        settings = SettingsService(db)
        media = MediaStore(config.media_dir, max_bytes=config.max_upload_bytes)
        federation = FederationClient(
            http,
            user_agent=config.user_agent,
            host_map=config.federation_hosts,
            allow_private=config.allow_private_addresses,
            limits=FetchLimits(total_seconds=config.fetch_timeout),
        )
        accounts = AccountService(db, config, settings, media)
        remote_accounts = RemoteAccountService(db, config, federation)
        keyring = KeyRing(db, remote_accounts)
        federation.schemes = PeerSchemes(db)
        return cls(
            config=config,
            db=db,
            settings=settings,
            media=media,
            accounts=accounts,
            posts=PostService(db, config),
            timelines=TimelineService(db),
            follows=FollowService(db),
            federation=federation,
            remote_accounts=remote_accounts,
            publishing=PublishingService(db, config),
            discovery=DiscoveryService(db, config, settings),
            keyring=keyring,
            inbox=InboxService(db, config, keyring),
        )
