"""Reading HTTP bodies whole, within a cap, from aiohttp streams (requests and responses).

`StreamReader.read(n)` returns what has arrived so far, at most n bytes: one call on a body
sent in several TCP segments (or chunks) sees only its start. These read until the body
ends, or until the cap shows the body is too large.
"""

from __future__ import annotations

from aiohttp import StreamReader

__all__ = ["read_capped", "read_start"]


async def read_capped(stream: StreamReader, limit: int) -> bytes | None:
    """The whole body, or None as soon as it is known to be longer than `limit` bytes
    (what is left unread is dropped with the connection)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in stream.iter_any():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def read_start(stream: StreamReader, size: int) -> bytes:
    """The first `size` bytes of the body (all of it when shorter), for logs."""
    start = b""
    while len(start) < size:
        chunk = await stream.read(size - len(start))
        if not chunk:
            break
        start += chunk
    return start
