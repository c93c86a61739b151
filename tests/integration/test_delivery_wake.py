"""The delivery workers' one wake-up: a committed transaction that made deliveries due."""

from __future__ import annotations

import pytest

from kizuna.activitypub.activities import follow_json
from kizuna.storage.models import Account
from tests.integration.lab import Instance, Network
from tests.integration.web import make_user, stored_account


class Boom(Exception):
    pass


async def _start(network: Network) -> tuple[Instance, Account, Account]:
    a = await network.start("a.test")
    await make_user(a.services, "alice")
    await make_user(a.services, "dana", role="admin")
    return a, await stored_account(a.services, "alice"), await stored_account(a.services, "dana")


async def _enqueue(a: Instance, alice: Account, number: int, *, fail: bool = False) -> None:
    async with a.services.db.begin() as session:
        doc = follow_json(
            id=f"https://a.test/follows/{number}", actor=alice.uri, object="https://b.test/bob"
        )
        await a.services.outbox.enqueue(session, alice, doc, [("https://b.test/inbox", "b.test")])
        assert not a.services.delivery.wakeup.is_set()  # not before the rows are visible
        if fail:
            raise Boom


async def test_a_committed_enqueue_wakes_the_workers_a_rolled_back_one_does_not(
    network: Network,
) -> None:
    a, alice, _ = await _start(network)
    wakeup = a.services.delivery.wakeup
    wakeup.clear()

    with pytest.raises(Boom):
        await _enqueue(a, alice, 1, fail=True)
    assert not wakeup.is_set()

    await a.services.posts.create(alice, "nobody elsewhere follows alice: nothing to deliver")
    assert not wakeup.is_set()

    await _enqueue(a, alice, 2)
    assert wakeup.is_set()


async def test_an_admins_retry_of_a_domain_wakes_the_workers(network: Network) -> None:
    a, alice, dana = await _start(network)
    await _enqueue(a, alice, 1)
    wakeup = a.services.delivery.wakeup
    wakeup.clear()

    assert await a.services.federation_health.retry(dana, "b.test") == 1
    assert wakeup.is_set()
