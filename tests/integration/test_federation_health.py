"""The federation health dashboard on a real lab: a.test delivering to b.test and to a dead
peer (a closed port mapped as dead.test), inbox refusals by reason, and the queue actions."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from kizuna.federation.signatures import load_private_key_pem, sign_cavage
from kizuna.keys import generate_rsa_keypair
from kizuna.storage.models import Account, AuditLogEntry, Delivery, Follow, PeerDomain
from tests.integration.lab import Instance, Network
from tests.integration.web import Client, log_in, make_user, submit

PAGE = "/admin/federation"


def _closed_port() -> int:
    with socket.socket() as sock:  # bound, then closed: nothing listens there afterwards
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def _lab(network: Network) -> tuple[Instance, Instance]:
    """alice (admin of a.test) and bob (b.test) follow each other; alice has posted."""
    a = await network.start("a.test")
    b = await network.start("b.test")
    await log_in(a.browser, await make_user(a.services, "alice", role="admin"))
    await log_in(b.browser, await make_user(b.services, "bob"))
    await b.browser.get("/search", params={"q": "@alice@a.test"})
    await submit(b.browser, "/@alice@a.test/follow", {}, form_page="/")
    await a.browser.get("/search", params={"q": "@bob@b.test"})
    await submit(a.browser, "/@bob@b.test/follow", {}, form_page="/")
    await network.drain()
    response = await submit(a.browser, "/posts", {"content": "hello b"}, form_page="/")
    assert response.status == 303
    await network.drain()
    return a, b


async def _dead_follower(a: Instance, network: Network) -> None:
    """zed@dead.test follows alice; dead.test is a port nobody listens on."""
    network.host_map["dead.test"] = ("127.0.0.1", _closed_port())
    now = datetime.now(UTC)
    async with a.services.db.begin() as session:
        alice = (await session.scalars(select(Account).where(Account.username == "alice"))).one()
        zed = Account(
            username="zed",
            username_key="zed",
            domain="dead.test",
            uri="https://dead.test/users/zed",
            inbox_url="https://dead.test/users/zed/inbox",
            created_at=now,
            updated_at=now,
        )
        session.add(zed)
        await session.flush()
        session.add(Follow(account_id=zed.id, target_account_id=alice.id, created_at=now))


async def _dashboard(a: Instance, **params: str) -> dict[str, Any]:
    response = await a.browser.get(f"{PAGE}.json", params=params)
    assert response.status == 200, await response.text()
    doc: dict[str, Any] = await response.json()
    return doc


def _row(doc: dict[str, Any], domain: str) -> dict[str, Any]:
    (row,) = [d for d in doc["domains"] if d["domain"] == domain]
    result: dict[str, Any] = row
    return result


async def _deliveries(a: Instance, domain: str) -> list[Delivery]:
    async with a.services.db.begin() as session:
        stmt = select(Delivery).where(Delivery.domain == domain)
        return list((await session.scalars(stmt)).all())


async def _audit(a: Instance) -> list[AuditLogEntry]:
    async with a.services.db.begin() as session:
        stmt = select(AuditLogEntry).order_by(AuditLogEntry.created_at)
        return list((await session.scalars(stmt)).all())


async def test_dashboard__shows_a_healthy_peer_from_real_deliveries(network: Network) -> None:
    a, _b = await _lab(network)

    doc = await _dashboard(a)
    row = _row(doc, "b.test")
    page = await (await a.browser.get(PAGE)).text()

    assert row["software"] == "kizuna"
    assert (row["followers"], row["following"]) == (1, 1)
    assert row["last_success_at"] is not None
    assert row["last_inbox_at"] is not None  # b's Follow and Accept reached a's inbox
    assert row["queue"] == {"pending": 0, "retrying": 0}
    assert row["last_day"]["delivered"] >= 2  # the Follow, the Accept, the post
    assert row["last_day"]["failure_rate"] == 0
    assert row["circuit"]["state"] == "ok"
    assert row["policy"] is None
    day = doc["instance"]["last_day"]
    assert day["delivered"] == row["last_day"]["delivered"]
    latency = day["latency_seconds"]
    assert latency["p50"] is not None
    assert 0 <= latency["p50"] <= latency["p90"] <= latency["p99"]
    assert doc["instance"]["last_hour"]["latency_seconds"]["p99"] == latency["p99"]
    assert doc["instance"]["queue"]["pending"] == 0
    assert "b.test" in page
    assert "kizuna" in page
    assert "Authorized fetch" in page  # the setting lives here now


async def test_dead_peer__failing_then_unavailable_then_retry_and_purge(network: Network) -> None:
    a, _b = await _lab(network)
    await _dead_follower(a, network)
    response = await submit(a.browser, "/posts", {"content": "hello dead"}, form_page="/")
    assert response.status == 303
    await network.drain()

    doc = await _dashboard(a)
    dead = doc["domains"][0]  # failing first
    assert dead["domain"] == "dead.test"
    assert dead["circuit"]["state"] == "failing"
    assert dead["queue"] == {"pending": 1, "retrying": 1}
    assert dead["last_success_at"] is None
    assert doc["instance"]["queue"]["retrying"] == 1

    # A day later the retry fails again: the circuit opens (unavailable, one probe an hour).
    delivery = a.services.delivery
    later = datetime.now(UTC) + timedelta(hours=25)
    delivery.clock = lambda: later
    assert await delivery.run_single_cycle() == 1
    delivery.clock = lambda: datetime.now(UTC)
    doc = await _dashboard(a)
    assert doc["domains"][0]["circuit"]["state"] == "unavailable"
    assert doc["domains"][0]["circuit"]["next_probe_at"] is not None
    page = await (await a.browser.get(PAGE)).text()
    for text in ("unavailable", "Retry now", "Purge queue"):
        assert text in page

    retry = await submit(a.browser, f"{PAGE}/domains/dead.test/retry", {}, form_page=PAGE)
    assert retry.status == 303
    async with a.services.db.begin() as session:
        peer = await session.get(PeerDomain, "dead.test")
    assert peer is not None
    assert (peer.unavailable, peer.failing_since) == (False, None)
    (row,) = await _deliveries(a, "dead.test")
    assert row.state == "pending"
    assert row.next_attempt_at <= datetime.now(UTC)
    notice = await (await a.browser.get(retry.headers["Location"])).text()
    assert "1 pending delivery to dead.test made due now." in notice

    purge = await submit(a.browser, f"{PAGE}/domains/dead.test/purge", {}, form_page=PAGE)
    assert purge.status == 303
    (row,) = await _deliveries(a, "dead.test")
    assert (row.state, row.last_error) == ("failed", "purged by admin")
    assert row.finished_at is not None
    doc = await _dashboard(a, q="dead")
    assert [d["domain"] for d in doc["domains"]] == ["dead.test"]
    assert doc["domains"][0]["queue"]["pending"] == 0
    assert doc["domains"][0]["last_day"]["failed"] == 1
    assert doc["domains"][0]["last_day"]["failure_rate"] == 1.0

    entries = await _audit(a)
    assert [(e.action, e.target, e.data) for e in entries] == [
        ("domain.retry_deliveries", "dead.test", {"deliveries": 1}),
        ("domain.purge_deliveries", "dead.test", {"deliveries": 1}),
    ]
    # Purging again finds nothing pending: 0, shown, and logged as such.
    again = await submit(a.browser, f"{PAGE}/domains/dead.test/purge", {}, form_page=PAGE)
    assert "n=0" in again.headers["Location"]


async def test_action_on_an_unknown_domain__404_and_no_audit_row(network: Network) -> None:
    a, _b = await _lab(network)

    response = await submit(a.browser, f"{PAGE}/domains/nowhere.test/purge", {}, form_page=PAGE)

    assert response.status == 404
    assert await _audit(a) == []


async def _post_inbox(
    a: Instance, path: str, body: bytes, sender: Account, pem: str | None = None
) -> int:
    headers = {"Content-Type": "application/activity+json"}
    private_pem = pem or sender.private_key_pem
    assert private_pem is not None
    assert sender.public_key_id is not None
    headers |= sign_cavage(
        method="POST",
        url=f"https://a.test{path}",
        headers=headers,
        body=body,
        key_id=sender.public_key_id,
        private_key=load_private_key_pem(private_pem),
        now=datetime.now(UTC),
    )
    return (await a.browser.post(path, data=body, headers=headers)).status


async def test_refused_inbox_requests__counted_by_reason(network: Network) -> None:
    a, b = await _lab(network)
    async with b.services.db.begin() as session:
        bob = (await session.scalars(select(Account).where(Account.username == "bob"))).one()
    like = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{bob.uri}#likes/1",
        "type": "Like",
        "actor": bob.uri,
        "object": "https://a.test/users/alice",
    }
    good = json.dumps(like).encode()
    inbox = "/users/alice/inbox"

    statuses = [
        await _post_inbox(a, inbox, b"{not json", bob),
        await _post_inbox(a, inbox, b"{not json", bob),
        await _post_inbox(a, inbox, good, bob, pem=generate_rsa_keypair().private_pem),
        await _post_inbox(a, "/users/nobody/inbox", good, bob),
        await _post_inbox(a, inbox, json.dumps({**like, "type": "Dance"}).encode(), bob),
    ]
    unsigned = await a.browser.post(inbox, data=good, headers={"Content-Type": "text/plain"})

    assert statuses == [400, 400, 401, 404, 400]
    assert unsigned.status == 415
    doc = await _dashboard(a)
    reasons = doc["instance"]["last_hour"]["inbox_rejections"]
    assert reasons == {
        "bad_json": 2,
        "signature": 1,
        "unknown_recipient": 1,
        "unsupported_type": 2,  # the Dance, and the unsigned text/plain (415)
    }
    assert doc["instance"]["last_day"]["inbox_rejections"] == reasons
    top = doc["instance"]["top_rejected_domains"]
    assert top[0] == {"domain": "b.test", "count": 5}
    assert {"domain": "unknown", "count": 1} in top
    assert _row(doc, "b.test")["last_day"]["inbox_rejections"] == 5
    page = await (await a.browser.get(PAGE)).text()
    assert "bad_json: 2" in page


async def test_moderator_and_anonymous__no_dashboard(network: Network) -> None:
    a, _b = await _lab(network)
    moderator = await make_user(a.services, "mo", role="moderator")
    browser: Client = TestClient(a.server)  # a second browser on the same server
    await browser.start_server()
    try:
        anonymous = await browser.get(PAGE, allow_redirects=False)
        await log_in(browser, moderator)
        html = await browser.get(PAGE)
        as_json = await browser.get(f"{PAGE}.json")
        action = await submit(browser, f"{PAGE}/domains/b.test/purge", {}, form_page="/")
    finally:
        await browser.session.close()

    assert anonymous.status == 303
    assert (html.status, as_json.status, action.status) == (403, 403, 403)
    assert await _audit(a) == []


async def test_paging_and_filter(network: Network) -> None:
    a, _b = await _lab(network)
    now = datetime.now(UTC)
    async with a.services.db.begin() as session:
        for n in range(60):
            session.add(PeerDomain(domain=f"peer{n:02}.example", updated_at=now))

    first = await _dashboard(a)
    second = await _dashboard(a, page="2")
    filtered = await _dashboard(a, q="PEER5")
    bad = await a.browser.get(f"{PAGE}.json", params={"page": "0"})

    assert first["total"] == second["total"] == 61
    assert (first["pages"], len(first["domains"]), len(second["domains"])) == (2, 50, 11)
    names = [d["domain"] for d in first["domains"] + second["domains"]]
    assert sorted(names) == names  # all healthy: by name
    assert [d["domain"] for d in filtered["domains"]] == [f"peer5{n}.example" for n in range(10)]
    assert bad.status == 400
