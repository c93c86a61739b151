"""A peer rotates its key: the first request signed with the new key is accepted, and bad
signatures still cannot make us fetch the peer's actor more than once per REFRESH_AFTER.

Real keys, a real Mastodon-shaped peer on loopback serving its actor; the keyring's
monotonic clock is set by the test (no sleeps, no timing assertions).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from kizuna.federation.keyring import REFETCH_INTERVAL, REFRESH_AFTER
from kizuna.storage.models import InboxActivity
from tests.fakes.mastodon import FakeMastodon
from tests.integration.lab import Instance, Network

BOB = "https://b.test/users/bob"
INBOX = "/users/bob/inbox"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


async def _setup(network: Network) -> tuple[Instance, FakeMastodon, Clock]:
    b = await network.start("b.test")
    await b.services.accounts.create_user("bob", "password-bob")
    peer = FakeMastodon("m.test")
    await network.serve("m.test", peer.app)
    clock = Clock()
    b.services.keyring.monotonic = clock
    return b, peer, clock


async def _deliver(b: Instance, peer: FakeMastodon, number: int, **sign: Any) -> int:
    body = json.dumps(peer.follow(BOB, number)).encode()
    response = await b.browser.post(
        INBOX, data=body, headers=peer.sign(f"https://b.test{INBOX}", body, **sign)
    )
    return response.status


async def _stored(b: Instance) -> int:
    async with b.services.db.begin() as session:
        return len((await session.scalars(select(InboxActivity))).all())


async def test_rotated_key_is_accepted_on_the_first_request_after_the_rotation(
    network: Network,
) -> None:
    b, peer, clock = await _setup(network)
    assert await _deliver(b, peer, 1) == 202
    assert peer.actor_fetches == 1
    # A few seconds later (well within the minute an unknown key waits), the peer rotates.
    clock.now += REFRESH_AFTER + 1
    assert REFRESH_AFTER + 1 < REFETCH_INTERVAL
    peer.rotate_key()
    assert await _deliver(b, peer, 2) == 202  # the cached key fails, the actor is refetched
    assert peer.actor_fetches == 2
    assert await _deliver(b, peer, 3) == 202  # the new key is cached now
    assert peer.actor_fetches == 2
    assert await _stored(b) == 3


async def test_bad_signatures_refetch_at_most_once_per_interval(network: Network) -> None:
    b, peer, clock = await _setup(network)
    assert await _deliver(b, peer, 1) == 202
    impostor = FakeMastodon("m.test")  # same keyId, another private key
    assert impostor.key_id == peer.key_id

    async def forged(number: int, **sign: Any) -> int:
        body = json.dumps(peer.follow(BOB, number)).encode()
        headers = impostor.sign(f"https://b.test{INBOX}", body, **sign)
        return (await b.browser.post(INBOX, data=body, headers=headers)).status

    # Right after the fetch: the failing key is young, nothing is fetched.
    for n in range(10, 15):
        assert await forged(n) == 401
    assert peer.actor_fetches == 1
    # Older than REFRESH_AFTER: the first failure refetches once, the rest of the burst not,
    # whether the bad requests name the cached key or keyIds of the same actor it never had.
    clock.now += REFRESH_AFTER + 1
    for n in range(20, 25):
        assert await forged(n) == 401
    for n in range(25, 30):
        made_up = f"{peer.actor_id}#key-{n}"
        assert await forged(n, key_id=made_up) == 401
    assert peer.actor_fetches == 2
    clock.now += REFRESH_AFTER + 1
    for n in range(30, 35):
        assert await forged(n, key_id=f"{peer.actor_id}#key-{n}") == 401
    assert peer.actor_fetches == 3
    assert await _stored(b) == 1
    # The genuine key still verifies throughout.
    assert await _deliver(b, peer, 2) == 202
    assert peer.actor_fetches == 3


async def test_a_key_fetched_by_a_concurrent_request_is_used_not_refused(
    network: Network,
) -> None:
    # A burst of first requests: one fetches the key while another looks in the database
    # before the fetched account is stored there, misses, and asks to fetch. The fetch has
    # just ended (nothing in flight, fetched a moment ago): the key in memory is the answer,
    # not "fetched less than a minute ago" (a 401 for a good signature).
    b, peer, _clock = await _setup(network)
    ring = b.services.keyring
    fetched = (await ring.get(peer.key_id)).key
    assert not ring._inflight
    assert await ring._fetch(peer.key_id) == fetched
    assert peer.actor_fetches == 1
