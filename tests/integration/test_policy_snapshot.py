"""The policy snapshot every door asks: precedence, subdomains, reload across processes."""

from __future__ import annotations

from datetime import UTC, datetime

from kizuna.federation.policy import FederationPolicy
from kizuna.storage import domain_policies
from kizuna.storage.engine import Database

NOW = datetime(2026, 11, 30, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_decisions_cover_subdomains_and_allow_list_precedence(db: Database) -> None:
    async with db.begin() as session:
        await domain_policies.upsert_policy(session, "spam.example", now=NOW, severity="suspend")
        await domain_policies.upsert_policy(
            session, "loud.example", now=NOW, severity="silence", reject_media=True
        )
        await domain_policies.upsert_policy(
            session, "quiet.example", now=NOW, severity="noop", reject_reports=True
        )
    policy = FederationPolicy(db, own_hosts=frozenset({"kizuna.test"}))
    await policy.reload()
    assert policy.decide("a.b.spam.example").refused
    assert policy.decide("a.b.spam.example").rule == "spam.example"
    assert not policy.decide("notspam.example").refused  # a suffix, not a subdomain
    loud = policy.decide("LOUD.example.")
    assert (loud.silenced, loud.reject_media, loud.refused) == (True, True, False)
    assert policy.decide("quiet.example").reject_reports
    assert policy.decide("other.example").refused is False
    assert policy.silenced_domains() == ("loud.example",)
    assert await policy.refusal("pics.loud.example", media=True) == "media rejected"
    assert await policy.refusal("pics.loud.example") is None

    async with db.begin() as session:
        await domain_policies.allow(session, "friends.example", "", NOW)
        await domain_policies.allow(session, "spam.example", "", NOW)
        await domain_policies.set_mode(session, "allowlist")
    await policy.reload()
    assert policy.decide("www.friends.example").refused is False
    assert policy.decide("other.example").reason == "not allow-listed"
    # A suspension wins over the allow-list; our own hosts are never refused.
    assert policy.decide("spam.example").reason == "suspended"
    assert policy.decide("kizuna.test").refused is False


async def test_another_process_sees_a_change_after_its_ttl(db: Database) -> None:
    clock = Clock()
    worker = FederationPolicy(db, ttl_seconds=3.0, monotonic=clock)
    await worker.fresh()
    assert not worker.decide("b.test").refused
    async with db.begin() as session:  # the admin's change, made by `kizuna serve`
        await domain_policies.upsert_policy(session, "b.test", now=NOW, severity="suspend")
    clock.now = 1.0
    assert not (await worker.fresh()).decide("b.test").refused  # within the TTL: not re-read
    clock.now = 3.5
    assert (await worker.fresh()).decide("b.test").refused
    async with db.begin() as session:
        await domain_policies.delete_policy(session, "b.test")
    clock.now = 7.0
    assert not (await worker.fresh()).decide("b.test").refused
