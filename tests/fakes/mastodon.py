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
    ) -> dict[str, str]:
        """Headers for POSTing `body` to `url`, signed as Mastodon signs deliveries."""
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
            f"{name.lower()}: {headers[name]}"
            for name in ("Host", "Date", "Digest", "Content-Type")
        ]
        signature = self.key.sign("\n".join(lines).encode(), padding.PKCS1v15(), hashes.SHA256())
        headers["Signature"] = (
            f'keyId="{key_id or self.key_id}",algorithm="rsa-sha256",'
            f'headers="(request-target) host date digest content-type",'
            f'signature="{base64.b64encode(signature).decode()}"'
        )
        return headers
