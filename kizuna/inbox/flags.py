"""An incoming `Flag`: another server reports some of our accounts (and their posts).

As Mastodon's ActivityPub::Activity::Flag (app/lib/activitypub/activity/flag.rb): one report
per local account named in `object`, with the named local posts of that account, the sender
(normally the peer's instance actor) as reporter. Objects that are not ours are ignored.
Refused when the sender's domain policy rejects reports; stored once per Flag id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from kizuna.activitypub.flags import parse_flag
from kizuna.activitypub.vocab import JsonObject
from kizuna.federation.errors import ForbiddenError
from kizuna.federation.policy import FederationPolicy
from kizuna.storage import reports
from kizuna.storage.engine import Session
from kizuna.storage.models import Account, Report
from kizuna.storage.states import ReportState

logger = logging.getLogger(__name__)


class FlagInbox:
    def __init__(self, policy: FederationPolicy | None, clock: Callable[[], datetime]) -> None:
        self.policy = policy
        self.clock = clock

    async def received(self, session: Session, sender: Account, raw: JsonObject) -> int:
        """Returns the number of reports stored (0: ignored or seen before)."""
        if self.policy is not None and (
            (await self.policy.fresh()).decide(sender.domain).reject_reports
        ):
            raise ForbiddenError(f"reports from {sender.domain} are rejected by this server")
        flag = parse_flag(raw)
        if await reports.get_report_by_uri(session, flag.id) is not None:
            logger.info("Flag %s from %s stored already", flag.id, sender.domain)
            return 0
        targets = await reports.local_accounts_by_uris(session, flag.objects)
        if not targets:
            logger.info("Flag %s from %s names no account of ours: ignored", flag.id, sender.domain)
            return 0
        posts = await reports.local_posts_by_uris(session, flag.objects)
        now = self.clock()
        for n, target in enumerate(targets):
            await reports.add_report(
                session,
                Report(
                    reporter_id=sender.id,
                    target_account_id=target.id,
                    post_ids=[p.id for p in posts if p.account_id == target.id],
                    category="other",
                    comment=flag.content,
                    # The Flag's id once; a Flag naming several accounts makes one report each.
                    uri=flag.id if n == 0 else f"{flag.id}#{target.id}",
                    origin_domain=sender.domain,
                    state=ReportState.OPEN,
                    created_at=now,
                    updated_at=now,
                ),
            )
        logger.info("Flag %s from %s: %d report(s)", flag.id, sender.domain, len(targets))
        return len(targets)
