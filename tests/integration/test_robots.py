"""/robots.txt: the default keeps crawlers to public pages; an admin's file replaces it."""

from __future__ import annotations

import urllib.robotparser
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

from aiohttp import web

from kizuna.app import create_app
from kizuna.config import Config, load_config
from kizuna.storage.engine import Database
from tests.integration.conftest import ClientFactory
from tests.integration.web import Client

BASE = "http://kizuna.test"


def _parsed(text: str) -> urllib.robotparser.RobotFileParser:
    parser = urllib.robotparser.RobotFileParser()
    parser.parse(text.splitlines())
    return parser


async def test_robots__default_allows_pages_and_keeps_crawlers_off_the_rest(
    make_client: ClientFactory,
) -> None:
    client = await make_client()
    response = await client.get("/robots.txt")
    assert response.status == 200
    assert response.content_type == "text/plain"
    robots = _parsed(await response.text())
    for page in ("/", "/@alice", "/@alice/123", "/tags/tokyo", "/c/cats", "/about", "/public"):
        assert robots.can_fetch("SomeBot", BASE + page), page
    for private in (
        "/admin",
        "/admin/accounts",
        "/settings/profile",
        "/api/timelines/home",
        "/live/home",
        "/inbox",
        "/users/alice/inbox",
        "/search?q=x",
        "/actor",
        "/users/alice",
        "/users/alice/outbox",
        "/nodeinfo/2.0",
        "/notifications",
    ):
        assert not robots.can_fetch("SomeBot", BASE + private), private


async def test_robots__admin_file_replaces_the_default(
    aiohttp_client: Callable[[web.Application], Awaitable[Client]],
    config: Config,
    db: Database,
    tmp_path: Path,
) -> None:
    own = tmp_path / "robots.txt"
    own.write_text("User-agent: *\nDisallow: /\n", encoding="utf-8")
    loaded = load_config(environ={"KIZUNA_ROBOTS_TXT": str(own)})
    assert loaded.robots_txt == own
    client = await aiohttp_client(create_app(replace(config, robots_txt=own), db=db))
    try:
        response = await client.get("/robots.txt")
        assert response.status == 200
        assert await response.text() == "User-agent: *\nDisallow: /\n"
        # An edit is served at once, without a restart.
        own.write_text("User-agent: *\nDisallow: /tags/\n", encoding="utf-8")
        robots = _parsed(await (await client.get("/robots.txt")).text())
        assert not robots.can_fetch("SomeBot", f"{BASE}/tags/x")
        assert robots.can_fetch("SomeBot", f"{BASE}/admin")
    finally:
        await client.close()  # while `db` is still open: fixtures tear down in reverse
