"""Answers discovery requests about this instance: WebFinger for local actors, NodeInfo."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from kizuna import __version__
from kizuna.activitypub.ids import instance_urls, interaction_template
from kizuna.activitypub.nodeinfo import NodeInfoStats, nodeinfo_json
from kizuna.activitypub.vocab import JsonObject
from kizuna.clock import utcnow
from kizuna.config import Config
from kizuna.errors import NotFoundError
from kizuna.services.settings import Registrations, SettingsService
from kizuna.storage import repo
from kizuna.storage.engine import Database
from kizuna.storage.ids import snowflake
from kizuna.webfinger.codec import jrd_json, parse_resource

MONTH, HALF_YEAR = timedelta(days=30), timedelta(days=180)


class DiscoveryService:
    def __init__(
        self,
        db: Database,
        config: Config,
        settings: SettingsService,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.config = config
        self.settings = settings
        self.clock = clock

    async def webfinger(self, resource: str) -> JsonObject:
        """Raises MalformedResourceError (400) or NotFoundError (404)."""
        base, domain = self.config.base_url, self.config.domain
        try:
            username = parse_resource(resource, local_domain=domain, base_url=base)
        except LookupError:
            raise NotFoundError(f"{resource[:200]} is not an account on {domain}") from None
        async with self.db.begin() as session:
            account = await repo.get_account_by_username(session, username.casefold())
        if account is None:
            raise NotFoundError(f"no account {username}@{domain}")
        if account.is_instance_actor:
            urls = instance_urls(base)
            return jrd_json(
                subject=f"acct:{domain}@{domain}",
                aliases=[urls.id],
                profile_url=urls.profile,
                actor_url=urls.id,
                subscribe_template=None,
            )
        return jrd_json(
            subject=f"acct:{account.username}@{domain}",
            aliases=[account.url or account.uri, account.uri],
            profile_url=account.url or account.uri,
            actor_url=account.uri,
            subscribe_template=interaction_template(base),
        )

    async def nodeinfo(self, version: str) -> JsonObject:
        now = self.clock()
        async with self.db.begin() as session:

            async def active(period: timedelta) -> int:
                since = now - period
                since_id = snowflake(int(since.timestamp() * 1000), 0)
                return await repo.count_active_users(session, since, since_id)

            stats = NodeInfoStats(
                users_total=await repo.count_users(session),
                active_month=await active(MONTH),
                active_halfyear=await active(HALF_YEAR),
                local_posts=await repo.count_local_posts(session),
            )
        registrations = await self.settings.registrations()
        return nodeinfo_json(
            version,
            software_version=__version__,
            open_registrations=registrations is not Registrations.CLOSED,
            stats=stats,
            node_name=await self.settings.site_name(self.config.domain),
            node_description=await self.settings.site_description(),
        )
