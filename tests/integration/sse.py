"""A Server-Sent Events reader for tests: parses the stream as a browser's EventSource does."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientResponse

from tests.integration.web import Client


@dataclass(frozen=True)
class Event:
    name: str
    data: dict[str, Any]
    id: str | None


class EventReader:
    def __init__(self, response: ClientResponse) -> None:
        self.response = response
        self.comments: list[str] = []
        self.last_id: str | None = None

    async def next(self, wait: float = 10.0) -> Event:
        """The next event (comments are kept in `comments`); fails the test on a timeout."""
        return await asyncio.wait_for(self._next(), wait)

    async def _next(self) -> Event:
        name, event_id = "message", None
        data: list[str] = []
        while True:
            raw = await self.response.content.readline()
            if not raw:
                raise EOFError("the server ended the stream")
            line = raw.decode("utf-8").rstrip("\n")
            if line == "":
                if data:
                    if event_id is not None:
                        self.last_id = event_id
                    return Event(name, json.loads("\n".join(data)), event_id)
                name, event_id = "message", None
                continue
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "":
                self.comments.append(value)
            elif field == "event":
                name = value
            elif field == "data":
                data.append(value)
            elif field == "id":
                event_id = value

    async def next_named(self, name: str, wait: float = 10.0) -> Event:
        """Skips other events until one called `name`."""
        while True:
            event = await self.next(wait)
            if event.name == name:
                return event

    async def posts(self, count: int, wait: float = 20.0) -> list[Event]:
        """The next `count` post events (by distinct post id), in arrival order."""
        seen: dict[str, Event] = {}
        while len(seen) < count:
            event = await self.next_named("post", wait)
            seen.setdefault(event.data["id"], event)
        return list(seen.values())

    def close(self) -> None:
        self.response.close()


async def open_stream(
    client: Client, path: str, *, last_event_id: str | None = None, session: str | None = None
) -> EventReader:
    """`session`: a login session token to send instead of the client's cookies."""
    headers = {"Accept": "text/event-stream"}
    if session is not None:
        headers["Cookie"] = f"kizuna_session={session}"
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    response = await client.get(path, headers=headers)
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"].startswith("text/event-stream")
    reader = EventReader(response)
    ready = await reader.next()
    assert ready.name == "ready", ready
    return reader
