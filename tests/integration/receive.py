"""Activities into an instance's inbox: straight into its table (`receive`), or signed by a
Mastodon-shaped peer through the real door (`deliver`).

`receive` is for payload tests: the signature was checked at the door (tests/unit/
test_signatures_*, test_inbox.py); what is tested there is what processing makes of a
peer's document.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from kizuna.container import Services
from kizuna.storage.models import InboxActivity
from tests.fakes.mastodon import FakeMastodon
from tests.integration.lab import Instance


async def receive(services: Services, *docs: dict[str, Any]) -> list[InboxActivity]:
    """Store `docs` as received, run one processing cycle, return every inbox row."""
    async with services.db.begin() as session:
        for doc in docs:
            actor = doc["actor"] if isinstance(doc["actor"], str) else doc["actor"]["id"]
            session.add(
                InboxActivity(
                    activity_id=doc["id"],
                    activity_type=doc["type"],
                    actor_uri=actor,
                    signer_key_id=f"{actor}#main-key",
                    raw=doc,
                    received_at=datetime.now(UTC),
                    attempts=0,
                )
            )
    await services.processor.run_single_cycle()
    async with services.db.begin() as session:
        return list((await session.scalars(select(InboxActivity))).all())


async def deliver(a: Instance, peer: FakeMastodon, doc: dict[str, Any]) -> None:
    """POST `doc` to `a`'s shared inbox signed by `peer`, as a.test's; it must be taken (202)."""
    body = json.dumps(doc).encode()
    headers = peer.sign(f"https://{a.domain}/inbox", body)
    response = await a.browser.post("/inbox", data=body, headers=headers)
    assert response.status == 202, await response.text()
