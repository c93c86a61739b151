"""The home query's two plans (storage/feed.py): the newest HOME_WINDOW posts walked by id, then
the per-author index below them when the window holds too few matches. Both must give the
same pages as the rule itself, also across the window's edge."""

from __future__ import annotations

import pytest

from kizuna.container import Services
from kizuna.storage import feed
from kizuna.storage.models import Post


async def _page(services: Services, viewer_id: int, **kwargs: int | None) -> list[int]:
    async with services.db.begin() as session:
        kwargs.setdefault("max_id", None)
        posts: list[Post] = await feed.home_timeline(session, viewer_id, **kwargs)  # type: ignore[arg-type]
    return [p.id for p in posts]


@pytest.fixture
async def sparse(services: Services) -> tuple[int, dict[str, int]]:
    """alice follows bob; carol, whom nobody follows, writes most of the posts."""
    alice = (await services.accounts.create_user("alice", "password-alice")).account
    bob = (await services.accounts.create_user("bob", "password-bob")).account
    carol = (await services.accounts.create_user("carol", "password-carol")).account
    await services.follows.follow(alice, "bob")
    ids: dict[str, int] = {}
    for name, author in (("b1", bob), ("b2", bob)):
        ids[name] = (await services.posts.create(author, name)).id
    for i in range(10):
        await services.posts.create(carol, f"carol {i}")
    ids["b3"] = (await services.posts.create(bob, "b3")).id
    for i in range(10, 20):
        await services.posts.create(carol, f"carol {i}")
    ids["a1"] = (await services.posts.create(alice, "a1")).id
    return alice.id, ids


async def test_home__window_too_small__the_rest_comes_from_below_it(
    services: Services, sparse: tuple[int, dict[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, ids = sparse
    expected = [ids["a1"], ids["b3"], ids["b2"], ids["b1"]]
    # The window (the 5 newest posts) holds a1 only: b3, b2 and b1 lie below it.
    monkeypatch.setattr(feed, "HOME_WINDOW", 5)
    assert await _page(services, alice) == expected
    assert await _page(services, alice, limit=2) == expected[:2]
    assert await _page(services, alice, limit=2, max_id=ids["b3"]) == expected[2:]
    assert await _page(services, alice, min_id=ids["b2"]) == expected[:2]
    assert await _page(services, alice, min_id=ids["b3"]) == expected[:1]
    assert await _page(services, alice, max_id=ids["b1"]) == []


async def test_home__window_larger_than_the_table__same_pages(
    services: Services, sparse: tuple[int, dict[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, ids = sparse
    expected = [ids["a1"], ids["b3"], ids["b2"], ids["b1"]]
    for window in (1, 3, 24, 25, 26, 1000):  # 25 posts in all
        monkeypatch.setattr(feed, "HOME_WINDOW", window)
        assert await _page(services, alice) == expected, window
        assert await _page(services, alice, limit=3, max_id=ids["a1"]) == expected[1:], window
