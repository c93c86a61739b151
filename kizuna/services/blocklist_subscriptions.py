"""Subscriptions to other admins' domain-block lists (Mastodon's CSV export format).

Each fetch only proposes: the diff against the policies this subscription made (add, change,
remove) is stored as `pending` and nothing changes until an admin applies it (or dismisses
it). A policy the admin set by hand, or one another subscription made, is never touched; a
row that conflicts with one is shown as skipped. Fetches go through the federation client:
https only, the SSRF guard at every hop, a size cap and the fetch timeout.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from kizuna.background import run_until_stopped
from kizuna.clock import utcnow
from kizuna.errors import NotFoundError, ValidationError
from kizuna.federation.blocklist_csv import (
    MAX_CSV_BYTES,
    BlocklistError,
    ParsedBlocklist,
    parse_blocklist,
)
from kizuna.federation.client import FederationClient
from kizuna.federation.errors import FetchError
from kizuna.services.domain_policy import DomainPolicyService, PolicyValues
from kizuna.storage import audit, domain_admin, domain_policies
from kizuna.storage.engine import Database, Session
from kizuna.storage.models import BlocklistSubscription, DomainPolicy
from kizuna.storage.states import Severity

__all__ = ["ApplyReport", "BlocklistSubscriptions", "SubscriptionView"]

ACCEPT = "text/csv, text/plain;q=0.9, */*;q=0.1"
CHECK_PERIOD_SECONDS = 600.0  # how often the worker looks for subscriptions due
MAX_REFRESH_HOURS = 24 * 30
# The fields a list carries; the private comment is ours.
CHANGE_OPS = ("add", "change", "remove")
_LIST_FIELDS = ("severity", "reject_media", "reject_reports", "public_comment", "obfuscate")


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscriptionView:
    subscription: BlocklistSubscription
    managed: int  # policies it made that are in force

    @property
    def changes(self) -> list[dict[str, Any]]:
        return [e for e in self.subscription.pending or [] if e["op"] in CHANGE_OPS]

    @property
    def notes(self) -> list[dict[str, Any]]:
        return [e for e in self.subscription.pending or [] if e["op"] in ("skip", "invalid")]


@dataclass(kw_only=True)
class ApplyReport:
    applied: list[str] = field(default_factory=list)  # "add example.com", …
    skipped: list[tuple[str, str]] = field(default_factory=list)


class BlocklistSubscriptions:
    def __init__(
        self,
        db: Database,
        federation: FederationClient,
        policies: DomainPolicyService,
        clock: Callable[[], datetime] = utcnow,
        *,
        period_seconds: float = CHECK_PERIOD_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.federation = federation
        self.policies = policies
        self.clock = clock
        self.period = period_seconds
        self.monotonic = monotonic
        self.wakeup = asyncio.Event()
        self._next_check = float("-inf")

    async def views(self) -> list[SubscriptionView]:
        async with self.db.begin() as session:
            subs = await domain_admin.subscriptions(session)
            return [
                SubscriptionView(
                    subscription=s, managed=len(await domain_admin.policies_of(session, s.id))
                )
                for s in subs
            ]

    async def subscribe(
        self, admin_id: int | None, url: str, *, refresh_hours: int = 24
    ) -> BlocklistSubscription:
        """Add a list and fetch it once now; its changes wait in `pending`."""
        url = _check_url(url)
        if not 1 <= refresh_hours <= MAX_REFRESH_HOURS:
            raise ValidationError(
                f"refresh every 1 to {MAX_REFRESH_HOURS} hours", field="refresh_hours"
            )
        async with self.db.begin() as session:
            if await domain_admin.subscription_by_url(session, url) is not None:
                raise ValidationError("already subscribed to that list", field="url")
            now = self.clock()
            sub = await domain_admin.add_subscription(
                session, url, refresh_hours=refresh_hours, now=now
            )
            await audit.record(
                session,
                account_id=admin_id,
                action="blocklist.subscribe",
                target_type="blocklist",
                target=url,
                now=now,
                data={"refresh_hours": refresh_hours},
            )
            sub_id = sub.id
        return await self.refresh(sub_id)

    async def unsubscribe(self, admin_id: int | None, sub_id: int) -> None:
        async with self.db.begin() as session:
            sub = await _get(session, sub_id)
            kept = [p.domain for p in await domain_admin.policies_of(session, sub_id)]
            await domain_admin.delete_subscription(session, sub_id)
            await audit.record(
                session,
                account_id=admin_id,
                action="blocklist.unsubscribe",
                target_type="blocklist",
                target=sub.url,
                now=self.clock(),
                data={"kept_as_manual": kept},
            )

    async def refresh(self, sub_id: int) -> BlocklistSubscription:
        """Fetch the list and store the proposed changes (or the error) on the subscription."""
        async with self.db.begin() as session:
            url = (await _get(session, sub_id)).url
        parsed: ParsedBlocklist | None = None
        error: str | None = None
        try:
            fetched = await self.federation.get_bytes(url, max_bytes=MAX_CSV_BYTES, accept=ACCEPT)
            if fetched.content_type in ("text/html", "application/xhtml+xml"):
                raise BlocklistError(f"the server answered a web page ({fetched.content_type})")
            parsed = parse_blocklist(fetched.body)
        except (FetchError, BlocklistError) as exc:
            error = str(exc) or type(exc).__name__
        async with self.db.begin() as session:
            sub = await _get(session, sub_id)
            now = self.clock()
            sub.last_fetched_at = now
            sub.next_fetch_at = now + timedelta(hours=sub.refresh_hours)
            sub.last_error = error  # on error the earlier pending diff stays for review
            if parsed is not None:
                sub.pending = await self._diff(session, sub, parsed)
        return sub

    async def _diff(
        self, session: Session, sub: BlocklistSubscription, parsed: ParsedBlocklist
    ) -> list[dict[str, Any]]:
        current = {p.domain: p for p in await domain_policies.all_policies(session)}
        subs = {s.id: s.url for s in await domain_admin.subscriptions(session)}
        entries: list[dict[str, Any]] = []
        listed: set[str] = set()
        for row in parsed.rows:
            listed.add(row.domain)
            wanted = {name: getattr(row, name) for name in _LIST_FIELDS}
            existing = current.get(row.domain)
            if row.domain in self.policies.policy.own_hosts:
                entries.append(_skip(row.domain, "this is our own domain"))
            elif existing is None:
                entries.append({"op": "add", "domain": row.domain, "before": None, "after": wanted})
            elif existing.subscription_id == sub.id:
                before = _list_values(existing)
                if before != wanted:
                    entries.append(
                        {"op": "change", "domain": row.domain, "before": before, "after": wanted}
                    )
            elif _list_values(existing) != wanted:
                owner = subs.get(existing.subscription_id or 0)
                why = f"kept as the list {owner} set it" if owner else "kept as set by hand"
                entries.append(_skip(row.domain, f"{why} ({existing.severity})"))
        for domain, policy in sorted(current.items()):
            if policy.subscription_id == sub.id and domain not in listed:
                before = _list_values(policy)
                entries.append({"op": "remove", "domain": domain, "before": before, "after": None})
        entries.extend(
            {"op": "invalid", "row": e.row, "domain": e.text, "reason": e.reason}
            for e in parsed.errors
        )
        return entries

    async def apply(self, admin_id: int | None, sub_id: int) -> ApplyReport:
        """Carry out the pending changes, re-checked against the policies as they are now."""
        report = ApplyReport()
        lifted: list[str] = []
        async with self.db.begin() as session:
            sub = await _get(session, sub_id)
            changes = [e for e in sub.pending or [] if e["op"] in CHANGE_OPS]
            if not changes:
                raise ValidationError("this list has no changes waiting", field="subscription")
            reason = f"blocklist {sub.url}"
            for entry in changes:
                op, domain = entry["op"], entry["domain"]
                row = await domain_policies.get_policy(session, domain)
                ours = row is not None and row.subscription_id == sub.id
                if (op == "add" and row is not None) or (op != "add" and not ours):
                    report.skipped.append((domain, "changed since the list was fetched"))
                    continue
                if op == "remove":
                    before = await self.policies.delete(
                        session, domain, admin_id=admin_id, reason=reason, source=sub.url
                    )
                    if before is not None and before.severity == Severity.SUSPEND:
                        lifted.append(domain)
                else:
                    after = PolicyValues(**entry["after"], private_comment=reason)
                    before = await self.policies.write(
                        session,
                        domain,
                        after,
                        admin_id=admin_id,
                        reason=reason,
                        subscription_id=sub.id,
                        source=sub.url,
                    )
                    lowered = before is not None and before.severity == Severity.SUSPEND
                    if lowered and after.severity != Severity.SUSPEND:
                        lifted.append(domain)
                report.applied.append(f"{op} {domain}")
            sub.pending = [e for e in sub.pending or [] if e["op"] not in CHANGE_OPS]
        await self.policies.after_change(lifted)
        return report

    async def dismiss(self, admin_id: int | None, sub_id: int) -> None:
        async with self.db.begin() as session:
            sub = await _get(session, sub_id)
            dropped = [f"{e['op']} {e['domain']}" for e in sub.pending or []]
            sub.pending = None
            await audit.record(
                session,
                account_id=admin_id,
                action="blocklist.dismiss",
                target_type="blocklist",
                target=sub.url,
                now=self.clock(),
                data={"dismissed": dropped},
            )

    async def refresh_due(self) -> int:
        """Fetch every subscription whose time has come; returns how many were fetched."""
        async with self.db.begin() as session:
            due = await domain_admin.due_subscriptions(session, self.clock())
        for sub_id in due:
            try:
                await self.refresh(sub_id)
            except NotFoundError:
                continue  # unsubscribed meanwhile
        return len(due)

    async def _cycle(self) -> int:
        now = self.monotonic()
        if now < self._next_check:
            return 0
        self._next_check = now + self.period
        return await self.refresh_due()

    async def run_forever(self, stop: asyncio.Event) -> None:
        await run_until_stopped("blocklist subscriptions", self._cycle, self.wakeup, stop)


def _check_url(text: str) -> str:
    url = text.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018  (raises ValueError on a malformed port)
    except ValueError:
        raise ValidationError("that is not a valid URL", field="url") from None
    if parts.scheme != "https" or not host:
        raise ValidationError("give the https:// address of a CSV list", field="url")
    if parts.username is not None or parts.password is not None:
        raise ValidationError("the URL must not carry a user name or password", field="url")
    if len(url) > 2048:
        raise ValidationError("the URL is too long", field="url")
    return url


async def _get(session: Session, sub_id: int) -> BlocklistSubscription:
    sub = await domain_admin.subscription(session, sub_id)
    if sub is None:
        raise NotFoundError("no such blocklist subscription")
    return sub


def _list_values(policy: DomainPolicy) -> dict[str, Any]:
    return {name: getattr(policy, name) for name in _LIST_FIELDS}


def _skip(domain: str, reason: str) -> dict[str, Any]:
    return {"op": "skip", "domain": domain, "reason": reason}
