"""An incoming `Flag`: another server reports some of our accounts (and their posts).

As Mastodon's ActivityPub::Activity::Flag (app/lib/activitypub/activity/flag.rb): one report
per local account named in `object`, with the named local posts of that account, the sender
(normally the peer's instance actor) as reporter. Objects that are not ours are ignored.
Refused when the sender's domain policy rejects reports; stored once per Flag id.
"""

from __future__ import annotations

import logging

from kizuna.activitypub.flags import Flag
from kizuna.activitypub.ids import flag_report_uri
from kizuna.federation.errors import ForbiddenError
from kizuna.inbox.context import Context
from kizuna.storage import reports
from kizuna.storage.models import Report
from kizuna.storage.states import ReportState

logger = logging.getLogger(__name__)


async def handle_flag(ctx: Context, flag: Flag) -> None:
    session, sender = ctx.session, ctx.actor
    if (await ctx.deps.decide(sender.domain)).reject_reports:
        raise ForbiddenError(f"reports from {sender.domain} are rejected by this server")
    if await reports.get_report_by_uri(session, flag.id) is not None:
        logger.info("Flag %s from %s stored already", flag.id, sender.domain)
        return
    targets = await reports.local_accounts_by_uris(session, flag.objects)
    if not targets:
        logger.info("Flag %s from %s names no account of ours: ignored", flag.id, sender.domain)
        return
    posts = await reports.local_posts_by_uris(session, flag.objects)
    now = ctx.now()
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
                uri=flag.id if n == 0 else flag_report_uri(flag.id, target.id),
                origin_domain=sender.domain,
                state=ReportState.OPEN,
                created_at=now,
                updated_at=now,
            ),
        )
    logger.info("Flag %s from %s: %d report(s)", flag.id, sender.domain, len(targets))
