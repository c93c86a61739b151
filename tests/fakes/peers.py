"""Peers that misbehave in ways no real instance here does: slow, looping, lying, huge."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from kizuna.keys import generate_rsa_keypair

Handler = Callable[[web.Request], Any]


def jrd(
    domain: str, username: str, actor_url: str, subject_domain: str | None = None
) -> dict[str, Any]:
    return {
        "subject": f"acct:{username}@{subject_domain or domain}",
        "links": [{"rel": "self", "type": "application/activity+json", "href": actor_url}],
    }


def person(actor_id: str, username: str) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": actor_id,
        "type": "Person",
        "preferredUsername": username,
        "inbox": f"{actor_id}/inbox",
        "publicKey": {
            "id": f"{actor_id}#main-key",
            "owner": actor_id,
            "publicKeyPem": generate_rsa_keypair().public_pem,
        },
    }


def json_reply(doc: Any, content_type: str = "application/activity+json") -> web.Response:
    return web.Response(body=json.dumps(doc).encode(), content_type=content_type)


class FakePeer:
    """One aiohttp app; `requests` records every path asked for."""

    def __init__(self, domain: str) -> None:
        self.domain = domain
        self.requests: list[str] = []
        self.app = web.Application()
        self.app.router.add_route("GET", "/{tail:.*}", self._dispatch)
        self.routes: dict[str, Handler] = {}

    def on(self, path: str, handler: Handler) -> None:
        self.routes[path] = handler

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request.path_qs)
        handler = self.routes.get(request.path)
        if handler is None:
            raise web.HTTPNotFound()
        result = handler(request)
        if asyncio.iscoroutine(result):
            result = await result
        assert isinstance(result, web.StreamResponse)
        return result

    def url(self, path: str) -> str:
        return f"https://{self.domain}{path}"


def slow(seconds: float) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        await asyncio.sleep(seconds)
        return json_reply({})

    return handler
