"""A Mastodon-shaped peer: serves its actor and signs requests the way Mastodon does.

Its signer is written here from the draft-cavage-12 text with `cryptography` alone, so a bug
in kizuna/federation/signatures cannot make both sides agree on something wrong.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


class FakeMastodon:
    def __init__(self, domain: str, username: str = "mallory", *, actor_delay: float = 0) -> None:
        self.actor_delay = actor_delay  # seconds to hang before serving the actor
        self.domain = domain
        self.username = username
        self.actor_id = f"https://{domain}/users/{username}"
        self.key_id = f"{self.actor_id}#main-key"
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.actor_fetches = 0
        self.app = web.Application()
        self.app.router.add_get(f"/users/{username}", self._actor)

    def public_pem(self) -> str:
        return (
            self.key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def actor(self) -> dict[str, Any]:
        return {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": self.actor_id,
            "type": "Person",
            "preferredUsername": self.username,
            "inbox": f"{self.actor_id}/inbox",
            "endpoints": {"sharedInbox": f"https://{self.domain}/inbox"},
            "publicKey": {
                "id": self.key_id,
                "owner": self.actor_id,
                "publicKeyPem": self.public_pem(),
            },
        }

    async def _actor(self, request: web.Request) -> web.Response:
        self.actor_fetches += 1
        await asyncio.sleep(self.actor_delay)
        return web.Response(
            body=json.dumps(self.actor()).encode(), content_type="application/activity+json"
        )

    def rotate_key(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def follow(self, target: str, number: int = 1) -> dict[str, Any]:
        return {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"https://{self.domain}/{number:08d}-follow",
            "type": "Follow",
            "actor": self.actor_id,
            "object": target,
        }

    def sign(
        self,
        url: str,
        body: bytes,
        *,
        key_id: str | None = None,
        date: datetime | None = None,
        digest_body: bytes | None = None,
        content_type: str = "application/activity+json",
        signed: tuple[str, ...] = ("Host", "Date", "Digest", "Content-Type"),
    ) -> dict[str, str]:
        """Headers for POSTing `body` to `url`, signed as Mastodon signs deliveries
        (`signed`: the headers covered after (request-target), to sign less than that)."""
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        digest = base64.b64encode(hashlib.sha256(digest_body or body).digest()).decode()
        headers = {
            "Host": parts.netloc,
            "Date": format_datetime(date or datetime.now(UTC), usegmt=True),
            "Digest": f"SHA-256={digest}",
            "Content-Type": content_type,
        }
        lines = [f"(request-target): post {path}"] + [
            f"{name.lower()}: {headers[name]}" for name in signed
        ]
        signature = self.key.sign("\n".join(lines).encode(), padding.PKCS1v15(), hashes.SHA256())
        headers["Signature"] = (
            f'keyId="{key_id or self.key_id}",algorithm="rsa-sha256",'
            f'headers="{" ".join(["(request-target)", *signed]).lower()}",'
            f'signature="{base64.b64encode(signature).decode()}"'
        )
        return headers


def _cavage_params(header: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        params[key] = value.strip('"')
    return params


class StrictInbox:
    """A Mastodon-shaped receiving server, strict as Mastodon is about what it accepts:
    a draft-cavage signature over (request-target) host date digest by a key it knows, a
    matching Digest, a Date within 12 hours, and a well-formed activity whose actor owns the
    key. Written with `cryptography` alone. What it accepted is kept in `received`."""

    def __init__(self, domain: str, software: str = "mastodon") -> None:
        self.domain = domain
        self.software = software
        self.keys: dict[str, Any] = {}  # keyId → public key (known out of band)
        self.received: list[dict[str, Any]] = []
        self.refused: list[str] = []
        self.docs: dict[str, dict[str, Any]] = {}  # path → document served on GET
        self.app = web.Application()
        self.app.router.add_post("/inbox", self._inbox)
        self.app.router.add_get("/{tail:.*}", self._get)

    def know_key(self, key_id: str, public_pem: str) -> None:
        self.keys[key_id] = serialization.load_pem_public_key(public_pem.encode())

    async def _get(self, request: web.Request) -> web.Response:
        if request.path == "/.well-known/nodeinfo":
            href = f"https://{self.domain}/nodeinfo/2.0"
            doc: dict[str, Any] = {
                "links": [{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.0", "href": href}]
            }
        elif request.path == "/nodeinfo/2.0":
            doc = {"version": "2.0", "software": {"name": self.software, "version": "4.3.0"}}
        elif request.path in self.docs:
            doc = self.docs[request.path]
        else:
            raise web.HTTPNotFound()
        return web.Response(body=json.dumps(doc).encode(), content_type="application/activity+json")

    def _refuse(self, reason: str) -> web.Response:
        self.refused.append(reason)
        return web.Response(status=401, text=reason)

    async def _inbox(self, request: web.Request) -> web.Response:
        body = await request.read()
        header = request.headers.get("Signature")
        if header is None:
            return self._refuse("no draft-cavage Signature header")
        params = _cavage_params(header)
        names = params.get("headers", "").split()
        if not {"(request-target)", "host", "date", "digest"} <= set(names):
            return self._refuse(f"signed headers {names} are not enough")
        key = self.keys.get(params.get("keyId", ""))
        if key is None:
            return self._refuse(f"unknown key {params.get('keyId')}")
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        if request.headers.get("Digest") != f"SHA-256={digest}":
            return self._refuse("Digest does not match the body")
        sent = datetime.strptime(request.headers["Date"], "%a, %d %b %Y %H:%M:%S GMT")
        if abs((datetime.now(UTC) - sent.replace(tzinfo=UTC)).total_seconds()) > 12 * 3600:
            return self._refuse("Date too far off")
        lines = []
        for name in names:
            if name == "(request-target)":
                lines.append(f"(request-target): post {request.path_qs}")
            else:
                lines.append(f"{name}: {request.headers[name]}")
        try:
            key.verify(
                base64.b64decode(params["signature"]),
                "\n".join(lines).encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except Exception:
            return self._refuse("signature does not verify")
        doc = json.loads(body)
        owner = params["keyId"].split("#", 1)[0]
        if doc.get("actor") != owner:
            return self._refuse("actor does not own the key")
        target = doc.get("object")
        if doc.get("type") == "Like" and not (
            isinstance(target, str) and target.startswith(f"https://{self.domain}/")
        ):
            return self._refuse("a Like's object must be the URI of one of our statuses")
        self.received.append(doc)
        return web.Response(status=202)
