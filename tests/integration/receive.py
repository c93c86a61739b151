"""Put activities straight into an instance's inbox table and process them.

For payload tests: the signature was checked at the door (tests/unit/test_signatures_*,
test_inbox.py); what is tested here is what processing makes of a peer's document.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from kizuna.services.container import Services
from kizuna.storage.models import InboxActivity


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
