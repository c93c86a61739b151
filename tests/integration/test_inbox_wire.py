"""Bodies on the wire: read whole however they arrive, and JSON parsed only within a depth
limit, on the inbox (a raw socket client) and on fetches (loopback peers)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import pytest
from aiohttp import web

from kizuna.activitypub.jsonload import MAX_DEPTH
from kizuna.federation.client import RequestSigner
from kizuna.federation.errors import FetchError, NotJsonError
from kizuna.federation.signatures import load_private_key_pem
from tests.fakes.mastodon import FakeMastodon
from tests.integration.lab import Instance, Network
from tests.integration.test_inbox import _stored, b_and_mastodon

__all__ = ["b_and_mastodon"]  # the fixture, shared with test_inbox

SHARED = "/inbox"
AP_JSON = "application/activity+json"
DEEP = 100_000
# How long the raw client waits between its writes for an early (premature) answer.
PAUSE = 0.3


def _response(raw: bytes) -> tuple[int, dict[str, Any]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body) if body.startswith(b"{") else {}


async def _raw_post(b: Instance, headers: dict[str, str], parts: list[bytes]) -> tuple[int, Any]:
    """POST over a plain socket: the head and parts[0] in one write, then each further part
    after a pause, unless the server has already answered (it must wait for the whole body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", b.port)
    head = f"POST {SHARED} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    writer.write(head.encode() + b"Connection: close\r\n\r\n" + parts[0])
    await writer.drain()
    early = b""
    for part in parts[1:]:
        with contextlib.suppress(TimeoutError):
            early = await asyncio.wait_for(reader.read(1), PAUSE)
        if early:
            break  # answered before the body was complete
        with contextlib.suppress(ConnectionError):  # refused mid-body (413) and closed
            writer.write(part)
            await writer.drain()
    raw = early + await reader.read()
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()
    return _response(raw)


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def _big_follow(peer: FakeMastodon, number: int = 1) -> bytes:
    follow = peer.follow("https://b.test/users/bob", number)
    follow["summary"] = "x" * 300_000  # ~300 KB: several TCP segments in any case
    return json.dumps(follow).encode()


# --- bodies read whole ----------------------------------------------------------------------


async def test_signed_300kb_activity_in_two_writes__accepted_and_stored_once(
    b_and_mastodon: tuple[Instance, FakeMastodon],
) -> None:
    b, peer = b_and_mastodon
    body = _big_follow(peer)
    headers = peer.sign(f"https://b.test{SHARED}", body) | {"Content-Length": str(len(body))}
    half = len(body) // 2

    status, answer = await _raw_post(b, headers, [body[:half], body[half:]])

    assert status == 202, answer
    assert answer["status"] == "accepted"
    (row,) = await _stored(b)
    assert row.raw["summary"] == "x" * 300_000


async def test_signed_activity_in_chunked_transfer_encoding__accepted(
    b_and_mastodon: tuple[Instance, FakeMastodon],
) -> None:
    b, peer = b_and_mastodon
    body = _big_follow(peer)
    headers = peer.sign(f"https://b.test{SHARED}", body) | {"Transfer-Encoding": "chunked"}
    half = len(body) // 2

    status, answer = await _raw_post(
        b, headers, [_chunk(body[:half]), _chunk(body[half:]) + b"0\r\n\r\n"]
    )

    assert status == 202, answer
    assert len(await _stored(b)) == 1


async def test_chunked_body_over_the_cap__413(
    b_and_mastodon: tuple[Instance, FakeMastodon],
) -> None:
    b, peer = b_and_mastodon
    piece = b"x" * (600 * 1024)
    body = b'{"x": "' + piece + piece + b'"}'
    headers = peer.sign(f"https://b.test{SHARED}", body) | {"Transfer-Encoding": "chunked"}

    status, answer = await _raw_post(
        b, headers, [_chunk(body[:700_000]), _chunk(body[700_000:]) + b"0\r\n\r\n"]
    )

    assert status == 413, answer
    assert "error" in answer
    assert await _stored(b) == []


async def test_fetch__response_sent_in_pieces_is_read_whole(network: Network) -> None:
    b = await network.start("b.test")
    peer = FakeMastodon("slow.test")
    doc = json.dumps(peer.actor() | {"summary": "y" * 200_000}).encode()

    async def actor(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": AP_JSON})
        response.content_length = len(doc)
        await response.prepare(request)
        await response.write(doc[:1000])
        await asyncio.sleep(PAUSE)  # a slow peer
        await response.write(doc[1000:])
        return response

    async def inbox(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=403, headers={"Content-Type": "text/plain"})
        await response.prepare(request)
        await response.write(b"refused: ")
        await asyncio.sleep(PAUSE)
        await response.write(b"this server does not take your posts")
        return response

    app = web.Application()
    app.router.add_get("/users/mallory", actor)
    app.router.add_post("/inbox", inbox)
    await network.serve("slow.test", app)

    fetched = await b.services.federation.get_json(peer.actor_id)
    bob = await b.services.accounts.create_user("bob", "password-bob")
    assert bob.account.private_key_pem is not None
    signer = RequestSigner(
        key_id="https://b.test/users/bob#main-key",
        private_key=load_private_key_pem(bob.account.private_key_pem),
    )
    answer = await b.services.federation.post_signed("https://slow.test/inbox", b"{}", signer)

    assert fetched.doc["summary"] == "y" * 200_000
    assert (answer.status, answer.body) == (403, "refused: this server does not take your posts")


# --- deep JSON ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b"[" * DEEP + b"]" * DEEP, b'{"a":' * DEEP + b"1" + b"}" * DEEP],
    ids=["arrays", "objects"],
)
async def test_inbox__100000_levels_deep__400_with_a_json_error(
    b_and_mastodon: tuple[Instance, FakeMastodon], body: bytes
) -> None:
    b, peer = b_and_mastodon
    for headers in (
        {"Content-Type": AP_JSON},
        peer.sign(f"https://b.test{SHARED}", body),
    ):
        response = await b.browser.post(SHARED, data=body, headers=headers)
        assert response.status == 400
        assert "deeper than" in (await response.json())["error"]
    assert await _stored(b) == []


def _nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = [value]
    return value


async def test_inbox__activity_exactly_at_the_depth_limit__accepted(
    b_and_mastodon: tuple[Instance, FakeMastodon],
) -> None:
    b, peer = b_and_mastodon
    results = []
    for number, extra in ((1, MAX_DEPTH - 1), (2, MAX_DEPTH)):  # the activity is one level
        doc = peer.follow("https://b.test/users/bob", number) | {"deep": _nested(extra)}
        body = json.dumps(doc).encode()
        headers = peer.sign(f"https://b.test{SHARED}", body)
        response = await b.browser.post(SHARED, data=body, headers=headers)
        results.append(response.status)

    assert results == [202, 400]
    (row,) = await _stored(b)
    assert row.raw["deep"] == _nested(MAX_DEPTH - 1)


def _deep_document(doc: dict[str, Any]) -> bytes:
    """`doc` with a 100,000-level array added (json.dumps itself could not write it)."""
    return json.dumps(doc).encode()[:-1] + b', "deep": ' + b"[" * DEEP + b"]" * DEEP + b"}"


async def test_fetch__peer_serving_deep_json__refused_fetch_no_crash(network: Network) -> None:
    b = await network.start("b.test")
    await b.services.accounts.create_user("bob", "password-bob")
    peer = FakeMastodon("deep.test")

    async def actor(request: web.Request) -> web.Response:
        return web.Response(body=_deep_document(peer.actor()), content_type=AP_JSON)

    async def webfinger(request: web.Request) -> web.Response:
        jrd = {"subject": "acct:mallory@deep.test", "links": []}
        return web.Response(body=_deep_document(jrd), content_type="application/jrd+json")

    app = web.Application()
    app.router.add_get("/users/mallory", actor)
    app.router.add_get("/.well-known/webfinger", webfinger)
    await network.serve("deep.test", app)

    with pytest.raises(NotJsonError, match="deeper than"):
        await b.services.federation.get_json(peer.actor_id)
    with pytest.raises(FetchError, match="deeper than"):
        await b.services.remote_accounts.resolve("@mallory@deep.test")
    # Its activity cannot be verified: the key is in the document we refused.
    body = json.dumps(peer.follow("https://b.test/users/bob")).encode()
    response = await b.browser.post(
        SHARED, data=body, headers=peer.sign(f"https://b.test{SHARED}", body)
    )
    assert response.status == 401
    assert "deeper than" in (await response.json())["error"]
    assert await _stored(b) == []
