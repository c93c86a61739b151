"""Asking another server who `user@host` is."""

from __future__ import annotations

from urllib.parse import quote

from kizuna.federation.client import FederationClient
from kizuna.webfinger.codec import WebFingerResult, parse_jrd

JRD_ACCEPT = "application/jrd+json, application/json"


async def webfinger(client: FederationClient, username: str, host: str) -> WebFingerResult:
    resource = quote(f"acct:{username}@{host}", safe=":@")
    fetched = await client.get_json(
        f"https://{host}/.well-known/webfinger?resource={resource}", accept=JRD_ACCEPT
    )
    return parse_jrd(fetched.doc)
