"""Reports across servers: alice@a.test reports bob@b.test with "forward"; b.test receives an
anonymous Flag from a.test's instance actor and queues it; duplicates are stored once; a
server whose reports b.test rejects is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select, update

from kizuna.inbox.handlers.registry import dispatch
from kizuna.storage import domain_policies, repo
from kizuna.storage.models import Account, Delivery, InboxActivity, OutboxActivity, Post, Report
from tests.integration.lab import Instance, Network
from tests.integration.web import log_in, make_user

NOW = datetime(2026, 11, 30, tzinfo=UTC)


async def _friends(network: Network) -> tuple[Instance, Instance, Account, Account, Post]:
    """alice@a.test follows bob@b.test, who posted; a holds a copy of the post."""
    a = await network.start("a.test")
    b = await network.start("b.test")
    await make_user(a.services, "alice")
    await make_user(b.services, "bob")
    await log_in(b.browser, await make_user(b.services, "mod", role="moderator"))
    async with a.services.db.begin() as session:
        alice = await repo.get_account_by_username(session, "alice")
    assert alice is not None
    await a.services.remote_accounts.resolve("@bob@b.test")
    await a.services.follows.follow(alice, "bob", "b.test")
    await network.drain()
    async with b.services.db.begin() as session:
        bob = await repo.get_account_by_username(session, "bob")
    assert bob is not None
    await b.services.posts.create(bob, "a very spammy post")
    await network.drain()
    async with a.services.db.begin() as session:
        copy = (await session.scalars(select(Post).where(Post.local.is_(False)))).one()
        remote_bob = await repo.get_account_by_uri(session, bob.uri)
    assert remote_bob is not None
    return a, b, alice, remote_bob, copy


async def _reports(instance: Instance) -> list[Report]:
    async with instance.services.db.begin() as session:
        return list((await session.scalars(select(Report).order_by(Report.id))).all())


async def test_forwarded_report_arrives_as_anonymous_flag(network: Network) -> None:
    a, b, alice, remote_bob, copy = await _friends(network)
    ours = await a.services.reports.create(
        alice, remote_bob.id, post_ids=[copy.id], category="spam", comment="ads", forward=True
    )
    await network.drain()

    # What a sent: Mastodon's Flag, from the instance actor, nothing about alice.
    async with a.services.db.begin() as session:
        sent = (
            await session.scalars(
                select(OutboxActivity).where(OutboxActivity.activity_type == "Flag")
            )
        ).one()
        (delivery,) = (
            await session.scalars(select(Delivery).where(Delivery.outbox_activity_id == sent.id))
        ).all()
    assert sent.raw == {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": ours.uri,
        "type": "Flag",
        "actor": "https://a.test/actor",
        "content": "ads",
        "object": [remote_bob.uri, copy.uri],
    }
    assert "alice" not in json.dumps(sent.raw)
    assert (delivery.inbox_url, delivery.state) == (remote_bob.inbox_url, "delivered")
    (local,) = await _reports(a)
    assert local.forwarded_at is not None
    assert local.uri == ours.uri

    # What b made of it: a report in its queue, by a.test's instance actor.
    (theirs,) = await _reports(b)
    async with b.services.db.begin() as session:
        reporter = await repo.get_account(session, theirs.reporter_id)
        bob = await repo.get_account_by_username(session, "bob")
        post = (
            await session.scalars(select(Post).where(Post.account_id == theirs.target_account_id))
        ).one()
    assert reporter is not None
    assert bob is not None
    assert reporter.uri == "https://a.test/actor"
    assert (theirs.target_account_id, theirs.post_ids, theirs.comment) == (bob.id, [post.id], "ads")
    assert (theirs.origin_domain, theirs.uri, theirs.state) == ("a.test", ours.uri, "open")

    page = await (await b.browser.get(f"/admin/reports/{theirs.id}")).text()
    assert "the server a.test" in page
    assert "a very spammy post" in page
    assert "ads" in page
    assert "alice" not in page
    queue = await (await b.browser.get("/admin/reports")).text()
    assert "the server a.test" in queue

    # Delivered again (a retry after a lost answer): stored once.
    async with a.services.db.begin() as session:
        await session.execute(
            update(Delivery)
            .where(Delivery.id == delivery.id)
            .values(state="pending", next_attempt_at=datetime.now(UTC))
        )
    await network.drain()
    assert len(await _reports(b)) == 1
    # Processed again (the same document under another activity row): still once.
    async with b.services.db.begin() as session:
        sender = await repo.get_account_by_uri(session, "https://a.test/actor")
        assert sender is not None
        assert await dispatch(b.services.processor.context(session, sender), sent.raw)
    assert len(await _reports(b)) == 1


async def test_report_without_forward_stays_home(network: Network) -> None:
    a, b, alice, remote_bob, _ = await _friends(network)
    report = await a.services.reports.create(alice, remote_bob.id, comment="meh")
    await network.drain()
    assert (report.forward, report.uri) == (False, None)
    assert await _reports(b) == []


async def test_flag_from_a_server_whose_reports_are_rejected_is_refused(network: Network) -> None:
    a, b, alice, remote_bob, copy = await _friends(network)
    async with b.services.db.begin() as session:
        await domain_policies.upsert_policy(
            session, "a.test", now=NOW, severity="noop", reject_reports=True
        )
    await b.services.policy.reload()
    await a.services.reports.create(alice, remote_bob.id, post_ids=[copy.id], forward=True)
    await network.drain()
    assert await _reports(b) == []
    async with b.services.db.begin() as session:
        row = (
            await session.scalars(
                select(InboxActivity).where(InboxActivity.activity_type == "Flag")
            )
        ).one()
    assert row.processed_at is not None
    assert "rejected" in (row.error or "")


async def test_flag_about_objects_not_ours_is_ignored(network: Network) -> None:
    a, b, alice, _, _ = await _friends(network)
    # b's moderators report alice to a: but name only b's own objects and an unknown one.
    async with b.services.db.begin() as session:
        bob = await repo.get_account_by_username(session, "bob")
        remote_alice = await repo.get_account_by_uri(session, alice.uri)
    assert bob is not None
    assert remote_alice is not None
    instance = await b.services.accounts.instance_actor()
    async with b.services.db.begin() as session:
        doc = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": "https://b.test/flag-1",
            "type": "Flag",
            "actor": instance.uri,
            "content": "not about a",
            "object": [bob.uri, "https://c.test/users/nobody"],
        }
        await b.services.outbox.enqueue(
            session, instance, doc, [(remote_alice.inbox_url or "", "a.test")]
        )
    await network.drain()
    assert await _reports(a) == []
    async with a.services.db.begin() as session:
        row = (
            await session.scalars(
                select(InboxActivity).where(InboxActivity.activity_type == "Flag")
            )
        ).one()
    assert row.processed_at is not None
    assert row.error is None  # ignored, not refused
