"""The admin's side of domain policy: set, change and lift policies, the allow-list and the
federation mode, CSV import/export, the dry run of a suspension, and the public list.

Every change writes one audit row (before/after) in its own transaction, then reloads the
in-memory FederationPolicy so the next request already obeys it. A lifted suspension (the
policy removed, or lowered from suspend) is handed to DomainPurger.lift after the commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from kizuna.clock import utcnow
from kizuna.errors import NotFoundError, ValidationError
from kizuna.federation.blocklist_csv import (
    SEVERITIES,
    BlockRow,
    ParsedBlocklist,
    RowError,
    blocklist_csv,
    domain_digest,
    obfuscated,
)
from kizuna.federation.domains import DomainError, normalize_domain, suffixes
from kizuna.federation.policy import FederationPolicy
from kizuna.services.domain_purge import DomainPurger
from kizuna.storage import audit, domain_admin, domain_policies
from kizuna.storage.domain_admin import Sample
from kizuna.storage.engine import Database, Session
from kizuna.storage.models import AllowedDomain, DomainPolicy
from kizuna.storage.states import Severity

__all__ = [
    "MODES",
    "VISIBILITIES",
    "DomainPolicyService",
    "DomainPreview",
    "ImportReport",
    "PolicyValues",
    "PublicBlock",
    "at_least_as_strict",
]

MODES = ("open", "allowlist")
VISIBILITIES = ("nobody", "users", "everyone")  # Mastodon's show_domain_blocks: disabled|users|all
DEFAULT_VISIBILITY = "users"
MAX_PUBLIC_COMMENT = 2000
MAX_PRIVATE_COMMENT = 5000
_RANK: dict[str, int] = {Severity.NOOP: 0, Severity.SILENCE: 1, Severity.SUSPEND: 2}


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyValues:
    severity: str = Severity.SUSPEND  # as typed until validated
    reject_media: bool = False
    reject_reports: bool = False
    public_comment: str = ""
    private_comment: str = ""
    obfuscate: bool = False

    @classmethod
    def of(cls, row: DomainPolicy) -> PolicyValues:
        return cls(
            severity=row.severity,
            reject_media=row.reject_media,
            reject_reports=row.reject_reports,
            public_comment=row.public_comment,
            private_comment=row.private_comment,
            obfuscate=row.obfuscate,
        )

    @classmethod
    def from_row(cls, row: BlockRow, *, private_comment: str = "") -> PolicyValues:
        return cls(
            severity=row.severity,
            reject_media=row.reject_media,
            reject_reports=row.reject_reports,
            public_comment=row.public_comment,
            private_comment=private_comment,
            obfuscate=row.obfuscate,
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def same_rule(self, other: PolicyValues) -> bool:
        """Same effect on federation (comments and obfuscation aside)."""
        return (self.severity, self.reject_media, self.reject_reports) == (
            other.severity,
            other.reject_media,
            other.reject_reports,
        )

    def describe(self) -> str:
        pairs = (("reject media", self.reject_media), ("reject reports", self.reject_reports))
        flags = [name for name, on in pairs if on]
        return self.severity + (f" + {', '.join(flags)}" if flags else "")


def at_least_as_strict(a: PolicyValues, b: PolicyValues) -> bool:
    """`a` restricts everything `b` does (Mastodon's DomainBlock#stricter_than?, non-strict)."""
    if a.severity == Severity.SUSPEND:
        return True
    if _RANK[a.severity] < _RANK[b.severity]:
        return False
    return (a.reject_media or not b.reject_media) and (a.reject_reports or not b.reject_reports)


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainPreview:
    """The dry run shown before a policy is confirmed: reads only."""

    domain: str
    severity: str
    current: PolicyValues | None
    covered_by: tuple[str, str] | None  # (parent domain, its severity)
    accounts: int
    follows_out: Sample
    follows_in: Sample
    members_here: Sample
    memberships_there: Sample
    replies: Sample

    @property
    def cuts(self) -> bool:
        """A suspension removes these; a silence or noop keeps them."""
        return self.severity == Severity.SUSPEND


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicBlock:
    domain: str  # masked when obfuscated
    digest: str  # SHA-256 of the real domain: lets a reader check a guess
    masked: bool
    severity: str
    comment: str


@dataclass(kw_only=True)
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (domain, why)
    errors: tuple[RowError, ...] = ()


class DomainPolicyService:
    def __init__(
        self,
        db: Database,
        policy: FederationPolicy,
        purger: DomainPurger,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.policy = policy
        self.purger = purger
        self.clock = clock

    # --- reading ---------------------------------------------------------------------------

    async def policies(self) -> list[tuple[DomainPolicy, str | None]]:
        """Every policy with the URL of the subscription that made it (None: the admin)."""
        async with self.db.begin() as session:
            rows = await domain_policies.all_policies(session)
            subs = {s.id: s.url for s in await domain_admin.subscriptions(session)}
        return [(row, subs.get(row.subscription_id or 0)) for row in rows]

    async def get(self, domain: str) -> PolicyValues | None:
        async with self.db.begin() as session:
            row = await domain_policies.get_policy(session, _domain(domain))
        return None if row is None else PolicyValues.of(row)

    async def allowed(self) -> list[AllowedDomain]:
        async with self.db.begin() as session:
            return await domain_policies.allowed_domains(session)

    async def mode(self) -> str:
        async with self.db.begin() as session:
            return await domain_policies.mode(session)

    async def preview(self, domain: str, severity: str) -> DomainPreview:
        name = self._target(domain)
        _severity(severity)
        async with self.db.begin() as session:
            row = await domain_policies.get_policy(session, name)
            covered_by = None
            for parent in list(suffixes(name))[1:]:
                found = await domain_policies.get_policy(session, parent)
                if found is not None:
                    covered_by = (found.domain, found.severity)
                    break
            return DomainPreview(
                domain=name,
                severity=severity,
                current=None if row is None else PolicyValues.of(row),
                covered_by=covered_by,
                accounts=await domain_admin.known_accounts(session, name),
                follows_out=await domain_admin.follows_out(session, name),
                follows_in=await domain_admin.follows_in(session, name),
                members_here=await domain_admin.members_here(session, name),
                memberships_there=await domain_admin.memberships_there(session, name),
                replies=await domain_admin.replies_to(session, name),
            )

    # --- changing --------------------------------------------------------------------------

    async def set_policy(
        self, admin_id: int | None, domain: str, values: PolicyValues, *, reason: str | None = None
    ) -> PolicyValues:
        """Create or change the admin's policy for `domain` (a subscription's policy set this
        way becomes the admin's own: subscriptions never touch it again)."""
        name = self._target(domain)
        _validate(values)
        async with self.db.begin() as session:
            before = await self.write(
                session,
                name,
                values,
                admin_id=admin_id,
                reason=values.private_comment if reason is None else reason,
            )
        await self.after_change([name] if _lifts(before, values) else [])
        return values

    async def remove(self, admin_id: int | None, domain: str, *, reason: str = "") -> None:
        name = _domain(domain)
        async with self.db.begin() as session:
            before = await self.delete(session, name, admin_id=admin_id, reason=reason)
        if before is None:
            raise NotFoundError(f"there is no policy for {name}")
        await self.after_change([name] if before.severity == "suspend" else [])

    async def write(
        self,
        session: Session,
        domain: str,
        values: PolicyValues,
        *,
        admin_id: int | None,
        reason: str,
        subscription_id: int | None = None,
        source: str | None = None,
    ) -> PolicyValues | None:
        """Upsert with its audit row, in the caller's transaction; returns the old values.
        The caller runs `after_change` once committed."""
        row = await domain_policies.get_policy(session, domain)
        before = None if row is None else PolicyValues.of(row)
        if before == values and row is not None and row.subscription_id == subscription_id:
            return before  # nothing to change, nothing to log
        now = self.clock()
        await domain_policies.upsert_policy(
            session, domain, now=now, subscription_id=subscription_id, **values.as_dict()
        )
        changed_severity = before is None or before.severity != values.severity
        data: dict[str, Any] = {
            "before": None if before is None else before.as_dict(),
            "after": values.as_dict(),
        }
        if source is not None:
            data["source"] = source
        await audit.record(
            session,
            account_id=admin_id,
            action=f"domain.{values.severity}" if changed_severity else "domain.update",
            target_type="domain",
            target=domain,
            now=now,
            reason=reason,
            data=data,
        )
        return before

    async def delete(
        self,
        session: Session,
        domain: str,
        *,
        admin_id: int | None,
        reason: str,
        source: str | None = None,
    ) -> PolicyValues | None:
        row = await domain_policies.get_policy(session, domain)
        if row is None:
            return None
        before = PolicyValues.of(row)
        await domain_policies.delete_policy(session, domain)
        data: dict[str, Any] = {"before": before.as_dict(), "after": None}
        if source is not None:
            data["source"] = source
        await audit.record(
            session,
            account_id=admin_id,
            action="domain.remove",
            target_type="domain",
            target=domain,
            now=self.clock(),
            reason=reason,
            data=data,
        )
        return before

    async def after_change(self, lifted: Iterable[str] = ()) -> None:
        """Once committed: hand lifted suspensions to the purger, then reload the policy."""
        for domain in lifted:
            await self.purger.lift(domain)
        await self.policy.reload()
        self.purger.wakeup.set()  # a new suspension is purged now, not at the next idle poll

    async def allow(self, admin_id: int | None, domain: str, comment: str = "") -> None:
        name = self._target(domain)
        if len(comment) > MAX_PRIVATE_COMMENT:
            raise ValidationError("the comment is too long", field="comment")
        async with self.db.begin() as session:
            await domain_policies.allow(session, name, comment.strip(), self.clock())
            await audit.record(
                session,
                account_id=admin_id,
                action="domain.allow",
                target_type="domain",
                target=name,
                now=self.clock(),
                reason=comment.strip(),
            )
        await self.policy.reload()

    async def disallow(self, admin_id: int | None, domain: str) -> None:
        name = _domain(domain)
        async with self.db.begin() as session:
            allowed = {a.domain for a in await domain_policies.allowed_domains(session)}
            if name not in allowed:
                raise NotFoundError(f"{name} is not on the allow-list")
            if allowed == {name} and await domain_policies.mode(session) == "allowlist":
                raise ValidationError(
                    f"{name} is the last domain on the allow-list: switch to open federation "
                    "first, or this server would federate with nobody",
                    field="domain",
                )
            await domain_policies.disallow(session, name)
            await audit.record(
                session,
                account_id=admin_id,
                action="domain.disallow",
                target_type="domain",
                target=name,
                now=self.clock(),
            )
        await self.policy.reload()

    async def set_mode(self, admin_id: int | None, mode: str) -> None:
        if mode not in MODES:
            raise ValidationError("the federation mode is open or allowlist", field="mode")
        async with self.db.begin() as session:
            before = await domain_policies.mode(session)
            if before == mode:
                return
            if mode == "allowlist" and not await domain_policies.allowed_domains(session):
                raise ValidationError(
                    "the allow-list is empty: add the domains to federate with first, or "
                    "this server would federate with nobody",
                    field="mode",
                )
            await domain_policies.set_mode(session, mode)
            await audit.record(
                session,
                account_id=admin_id,
                action="federation.mode",
                target_type="setting",
                target=domain_policies.MODE_KEY,
                now=self.clock(),
                data={"before": before, "after": mode},
            )
        await self.policy.reload()

    # --- CSV -------------------------------------------------------------------------------

    async def import_blocklist(
        self, admin_id: int | None, parsed: ParsedBlocklist, *, source: str
    ) -> ImportReport:
        """Apply an uploaded list: new domains are added, existing ones only made stricter —
        never lowered (each such row is reported as skipped, with why)."""
        report = ImportReport(errors=parsed.errors)
        note = f"Imported from {source[:200]} on {self.clock():%Y-%m-%d}"
        async with self.db.begin() as session:
            current = {p.domain: p for p in await domain_policies.all_policies(session)}
            for block in parsed.rows:
                if block.domain in self.policy.own_hosts:
                    report.skipped.append((block.domain, "this is our own domain"))
                    continue
                wanted = PolicyValues.from_row(block, private_comment=note)
                parent = _covering_parent(block.domain, current)
                if parent is not None and at_least_as_strict(PolicyValues.of(parent), wanted):
                    why = f"already covered by {parent.domain} ({parent.severity})"
                    report.skipped.append((block.domain, why))
                    continue
                row = current.get(block.domain)
                if row is None:
                    await self.write(
                        session, block.domain, wanted, admin_id=admin_id, reason=note, source=source
                    )
                    created = await domain_policies.get_policy(session, block.domain)
                    assert created is not None
                    current[block.domain] = created  # it may cover a later row's subdomain
                    report.created.append(block.domain)
                    continue
                existing = PolicyValues.of(row)
                if existing.same_rule(wanted):
                    report.unchanged.append(block.domain)
                    continue
                merged = _strictest(existing, wanted)
                if merged.same_rule(existing):
                    why = (
                        f"has a stricter policy ({existing.describe()}), "
                        f"not lowered to {wanted.describe()}"
                    )
                    report.skipped.append((block.domain, why))
                    continue
                await self.write(
                    session,
                    block.domain,
                    merged,
                    admin_id=admin_id,
                    reason=note,
                    source=source,  # the admin's own from now on, even if a list made it
                )
                report.updated.append(block.domain)
        await self.after_change()  # an import only adds or tightens: nothing is lifted
        return report

    async def export_csv(self) -> str:
        """Every policy, obfuscated ones included (as Mastodon's admin export)."""
        async with self.db.begin() as session:
            rows = await domain_policies.all_policies(session)
        return blocklist_csv(_block_row(row) for row in rows)

    # --- the public list -------------------------------------------------------------------

    async def visibility(self) -> str:
        async with self.db.begin() as session:
            value = await domain_admin.visibility(session)
        return value if value in VISIBILITIES else DEFAULT_VISIBILITY

    async def set_visibility(self, admin_id: int | None, value: str) -> None:
        if value not in VISIBILITIES:
            raise ValidationError(
                "who sees the moderated servers: nobody, users or everyone", field="visibility"
            )
        before = await self.visibility()
        if before == value:
            return
        async with self.db.begin() as session:
            await domain_admin.set_visibility(session, value)
            await audit.record(
                session,
                account_id=admin_id,
                action="setting.domain_blocks_visibility",
                target_type="setting",
                target=domain_admin.VISIBILITY_KEY,
                now=self.clock(),
                data={"before": before, "after": value},
            )

    async def public_list(self, *, signed_in: bool) -> list[PublicBlock] | None:
        """The moderated servers for /about (None: not shown to this viewer). Like Mastodon's
        /api/v1/instance/domain_blocks: silenced and suspended ones, obfuscated ones masked."""
        shown = await self.visibility()
        if shown == "nobody" or (shown == "users" and not signed_in):
            return None
        async with self.db.begin() as session:
            rows = await domain_policies.all_policies(session)
        limited = [r for r in rows if r.severity in (Severity.SUSPEND, Severity.SILENCE)]
        limited.sort(key=lambda r: (-_RANK[r.severity], r.domain))
        return [
            PublicBlock(
                domain=obfuscated(r.domain) if r.obfuscate else r.domain,
                digest=domain_digest(r.domain),
                masked=r.obfuscate,
                severity=r.severity,
                comment=r.public_comment,
            )
            for r in limited
        ]

    async def public_csv(self) -> str | None:
        """/about/domain_blocks.csv for other servers to subscribe to: only when the list is
        public, without obfuscated rows, limited ones only (Mastodon's with_limitations)."""
        if await self.visibility() != "everyone":
            return None
        async with self.db.begin() as session:
            rows = await domain_policies.all_policies(session)
        return blocklist_csv(
            _block_row(r)
            for r in rows
            if not r.obfuscate and (r.severity != Severity.NOOP or r.reject_media)
        )

    def _target(self, domain: str) -> str:
        name = _domain(domain)
        if name in self.policy.own_hosts:
            raise ValidationError(f"{name} is this server", field="domain")
        return name


def _domain(text: str) -> str:
    try:
        return normalize_domain(text)
    except DomainError as exc:
        raise ValidationError(str(exc), field="domain") from None


def _severity(value: str) -> Severity:
    if value not in SEVERITIES:
        raise ValidationError("the severity is suspend, silence or noop", field="severity")
    return Severity(value)


def _validate(values: PolicyValues) -> None:
    _severity(values.severity)
    if len(values.public_comment) > MAX_PUBLIC_COMMENT:
        raise ValidationError(
            f"the public comment is at most {MAX_PUBLIC_COMMENT} characters",
            field="public_comment",
        )
    if len(values.private_comment) > MAX_PRIVATE_COMMENT:
        raise ValidationError(
            f"the private comment is at most {MAX_PRIVATE_COMMENT} characters",
            field="private_comment",
        )


def _lifts(before: PolicyValues | None, after: PolicyValues | None) -> bool:
    return (
        before is not None
        and before.severity == Severity.SUSPEND
        and (after is None or after.severity != Severity.SUSPEND)
    )


def _strictest(existing: PolicyValues, wanted: PolicyValues) -> PolicyValues:
    """The union of both restrictions; the existing comments stay."""
    severity = max(existing.severity, wanted.severity, key=_RANK.__getitem__)
    return PolicyValues(
        severity=severity,
        reject_media=existing.reject_media or wanted.reject_media,
        reject_reports=existing.reject_reports or wanted.reject_reports,
        public_comment=existing.public_comment or wanted.public_comment,
        private_comment=existing.private_comment,
        obfuscate=existing.obfuscate or wanted.obfuscate,
    )


def _covering_parent(domain: str, current: dict[str, DomainPolicy]) -> DomainPolicy | None:
    for parent in list(suffixes(domain))[1:]:
        if parent in current:
            return current[parent]
    return None


def _block_row(row: DomainPolicy) -> BlockRow:
    return BlockRow(
        domain=row.domain,
        severity=row.severity,
        reject_media=row.reject_media,
        reject_reports=row.reject_reports,
        public_comment=row.public_comment,
        obfuscate=row.obfuscate,
    )
