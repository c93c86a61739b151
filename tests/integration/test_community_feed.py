"""The mixi2 feed rule: community posts inserted into the chronological home feed."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from kizuna.container import Services
from kizuna.errors import ValidationError
from kizuna.services.timelines import PAGE_SIZE, Page
from kizuna.storage.engine import Database
from kizuna.storage.ids import new_id
from kizuna.storage.models import Account, Follow, Post, User
from tests.integration.conftest import ClientFactory
from tests.integration.statements import count_statements
from tests.integration.web import csrf_token, log_in, make_user

POST_IDS_RE = re.compile(r'data-post-id="(\d+)"')
NEXT_RE = re.compile(r'href="\?max_id=(\d+)(?:&amp;cmax_id=(\d+))?" rel="next"')


def _now() -> datetime:
    return datetime.now(UTC)


class World:
    """Accounts, groups, memberships and posts written straight into the database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def account(
        self, username: str, *, domain: str = "remote.test", actor_type: str = "Person"
    ) -> int:
        now = _now()
        host = domain or "kizuna.test"
        path = "c" if actor_type == "Group" else "users"
        account = Account(
            id=new_id(),
            username=username,
            username_key=username.casefold(),
            domain=domain,
            uri=f"https://{host}/{path}/{username}",
            actor_type=actor_type,
            display_name=username.title() if actor_type == "Group" else "",
            created_at=now,
            updated_at=now,
        )
        async with self.db.begin() as session:
            session.add(account)
        return account.id

    async def group(self, slug: str, *, domain: str = "", display_name: str = "") -> int:
        group_id = await self.account(slug, domain=domain, actor_type="Group")
        if display_name:
            async with self.db.begin() as session:
                group = await session.get(Account, group_id)
                assert group is not None
                group.display_name = display_name
        return group_id

    async def follow(self, member_id: int, target_id: int, state: str = "accepted") -> None:
        async with self.db.begin() as session:
            session.add(
                Follow(
                    id=new_id(),
                    account_id=member_id,
                    target_account_id=target_id,
                    state=state,
                    created_at=_now(),
                )
            )

    async def post(
        self,
        author_id: int,
        text: str = "words",
        *,
        community_id: int | None = None,
        visibility: str = "public",
        in_reply_to_id: int | None = None,
        in_reply_to_uri: str | None = None,
        reblog_of_id: int | None = None,
    ) -> int:
        post_id = new_id()
        async with self.db.begin() as session:
            session.add(
                Post(
                    id=post_id,
                    uri=f"https://remote.test/objects/{post_id}",
                    account_id=author_id,
                    local=False,
                    content_source=text,
                    content_html=f"<p>{text}</p>",
                    visibility=visibility,
                    community_id=community_id,
                    in_reply_to_id=in_reply_to_id,
                    in_reply_to_uri=in_reply_to_uri,
                    reblog_of_id=reblog_of_id,
                    created_at=_now(),
                )
            )
        return post_id

    async def posts(self, author_id: int, count: int, **kwargs: Any) -> list[int]:
        """`count` posts, returned newest first (as a feed shows them)."""
        ids = [await self.post(author_id, f"post {i}", **kwargs) for i in range(count)]
        return ids[::-1]


@pytest.fixture
def world(db: Database) -> World:
    return World(db)


def ids(page: Page) -> list[int]:
    return [p.id for p in page.posts]


async def test_home__one_community_post_after_every_5_items_newest_first(
    services: Services, world: World
) -> None:
    viewer = (await services.accounts.create_user("alice", "password-alice")).account
    bob, stranger = await world.account("bob"), await world.account("stranger")
    cats = await world.group("cats")
    await world.follow(viewer.id, bob)
    await world.follow(viewer.id, cats)
    community = await world.posts(stranger, 4, community_id=cats)
    main = await world.posts(bob, 12)

    page = await services.timelines.home(viewer)

    assert ids(page) == [*main[:5], community[0], *main[5:10], community[1], *main[10:]]
    assert page.inserted == frozenset(community[:2])
    assert page.next_max_id is None
    assert page.next_community_max_id == community[1]
    # Stats are there for the inserted posts too.
    assert set(page.stats) == set(ids(page))
    inserted = [p for p in page.posts if p.id in page.inserted]
    assert [p.community.username if p.community else None for p in inserted] == ["cats"] * 2


async def test_home__every_is_the_users_setting_and_0_turns_it_off(
    services: Services, world: World
) -> None:
    user = await services.accounts.create_user("alice", "password-alice")
    viewer = user.account
    bob, stranger = await world.account("bob"), await world.account("stranger")
    cats = await world.group("cats")
    await world.follow(viewer.id, bob)
    await world.follow(viewer.id, cats)
    community = await world.posts(stranger, 5, community_id=cats)
    main = await world.posts(bob, 7)

    await services.timelines.set_community_feed_every(user.id, 3)
    page = await services.timelines.home(viewer)
    assert ids(page) == [*main[:3], community[0], *main[3:6], community[1], main[6]]

    await services.timelines.set_community_feed_every(user.id, 0)
    page = await services.timelines.home(viewer)
    assert ids(page) == main
    assert page.inserted == frozenset()
    assert page.next_community_max_id is None

    # An explicit `every` (the web route passes the logged-in user's) wins.
    page = await services.timelines.home(viewer, every=1)
    assert ids(page)[:4] == [main[0], community[0], main[1], community[1]]

    with pytest.raises(ValidationError):
        await services.timelines.set_community_feed_every(user.id, 7)
    async with services.db.begin() as session:
        stored = await session.scalar(select(User.community_feed_every).where(User.id == user.id))
    assert stored == 0


async def test_home__never_a_post_the_chronological_feed_has(
    services: Services, world: World
) -> None:
    viewer = (await services.accounts.create_user("alice", "password-alice")).account
    bob, carol, stranger = (
        await world.account("bob"),
        await world.account("carol"),
        await world.account("stranger"),
    )
    cats = await world.group("cats")
    await world.follow(viewer.id, bob)
    await world.follow(viewer.id, cats)
    stranger_old = await world.post(stranger, "stranger old", community_id=cats)
    boosted = await world.post(carol, "carol's, boosted by bob", community_id=cats)
    boost = await world.post(bob, reblog_of_id=boosted)
    by_followed = await world.post(bob, "bob in cats", community_id=cats)
    own = await world.post(viewer.id, "alice in cats", community_id=cats)
    main = await world.posts(bob, 4)

    page = await services.timelines.home(viewer, every=2)

    # Chronological: bob's 4, alice's own, bob's community post, bob's boost. Of the community
    # stream only the stranger's post is left; it goes after the 2nd item, once.
    assert ids(page) == [main[0], main[1], stranger_old, main[2], main[3], own, by_followed, boost]
    assert page.inserted == frozenset({stranger_old})
    assert page.next_community_max_id == stranger_old


async def test_home__only_joined_groups_public_top_level_posts(
    services: Services, world: World
) -> None:
    viewer = (await services.accounts.create_user("alice", "password-alice")).account
    bob, stranger = await world.account("bob"), await world.account("stranger")
    cats = await world.group("cats")
    dogs = await world.group("dogs", domain="lemmy.test")
    pending = await world.group("pending", domain="lemmy.test")
    unjoined = await world.group("unjoined")
    person = await world.account("person")  # followed, but not a Group
    await world.follow(viewer.id, bob)
    await world.follow(viewer.id, cats)
    await world.follow(viewer.id, dogs)
    await world.follow(viewer.id, pending, state="pending")
    await world.follow(viewer.id, person)

    top_cats = await world.post(stranger, "top in cats", community_id=cats)
    top_dogs = await world.post(stranger, "top in dogs", community_id=dogs)
    unlisted = await world.post(stranger, "unlisted", community_id=dogs, visibility="unlisted")
    never = [
        await world.post(stranger, "pending join", community_id=pending),
        await world.post(stranger, "not joined", community_id=unjoined),
        await world.post(stranger, "not a group", community_id=person),
        await world.post(stranger, "followers", community_id=cats, visibility="private"),
        await world.post(stranger, "direct", community_id=cats, visibility="direct"),
        await world.post(stranger, "reply", community_id=cats, in_reply_to_id=top_cats),
        await world.post(
            stranger,
            "remote reply, parent unknown",
            community_id=dogs,
            in_reply_to_uri="https://lemmy.test/post/1",
        ),
        await world.post(stranger, community_id=cats, reblog_of_id=top_dogs),
    ]
    main = await world.posts(bob, 10)

    page = await services.timelines.home(viewer, every=1)

    assert ids(page) == [main[0], unlisted, main[1], top_dogs, main[2], top_cats, *main[3:]]
    assert page.inserted == frozenset({unlisted, top_dogs, top_cats})
    assert not set(never) & set(ids(page))


async def test_home__paging_is_stable_and_never_repeats(services: Services, world: World) -> None:
    viewer = (await services.accounts.create_user("alice", "password-alice")).account
    bob, stranger = await world.account("bob"), await world.account("stranger")
    cats = await world.group("cats")
    await world.follow(viewer.id, bob)
    await world.follow(viewer.id, cats)
    main: list[int] = []
    community: list[int] = []
    for i in range(45):
        main.insert(0, await world.post(bob, f"main {i}"))
        if i % 4 == 0:
            community.insert(0, await world.post(stranger, f"cats {i}", community_id=cats))
    assert len(community) == 12

    first = await services.timelines.home(viewer)
    expected_first: list[int] = []
    for n in range(8):
        expected_first += [*main[5 * n : 5 * n + 5], community[n]]
    assert ids(first) == expected_first
    assert first.next_max_id == main[PAGE_SIZE - 1]
    assert first.next_community_max_id == community[7]
    assert ids(await services.timelines.home(viewer)) == expected_first

    second = await services.timelines.home(
        viewer, max_id=first.next_max_id, community_max_id=first.next_community_max_id
    )
    assert ids(second) == [*main[40:], community[8]]
    assert second.next_max_id is None
    assert second.next_community_max_id == community[8]
    assert not first.inserted & second.inserted

    # New posts, chronological and community, change neither page once it has cursors.
    await world.post(bob, "newer main")
    await world.post(stranger, "newer cats", community_id=cats)
    again = await services.timelines.home(
        viewer, max_id=first.next_max_id, community_max_id=first.next_community_max_id
    )
    assert ids(again) == ids(second)
    assert again.inserted == second.inserted


async def test_home__query_count_does_not_grow_with_communities(
    services: Services, world: World, db: Database
) -> None:
    viewer = (await services.accounts.create_user("alice", "password-alice")).account
    bob, stranger = await world.account("bob"), await world.account("stranger")
    await world.follow(viewer.id, bob)
    await world.posts(bob, 10)

    async def statements() -> int:
        with count_statements(db) as seen:
            page = await services.timelines.home(viewer)
        assert page.posts
        return len(seen)

    groups = [await world.group(f"g{i}") for i in range(5)]
    await world.follow(viewer.id, groups[0])
    await world.post(stranger, community_id=groups[0])
    few = await statements()
    for group in groups[1:]:
        await world.follow(viewer.id, group)
        await world.post(stranger, community_id=group)
        await world.post(stranger, community_id=group)
    many = await statements()
    assert few == many


def _articles(html: str) -> dict[int, str]:
    chunks = html.split("<article")[1:]
    found = {}
    for chunk in chunks:
        match = POST_IDS_RE.search(chunk)
        assert match is not None
        found[int(match.group(1))] = chunk.split("</article>")[0]
    return found


async def test_web_home__marks_community_posts_and_pages_with_both_cursors(
    make_client: ClientFactory, services: Services, world: World
) -> None:
    client = await make_client()
    await log_in(client, await make_user(services, "alice"))
    viewer = (await services.accounts.list_users())[0].account
    bob, stranger = await world.account("bob"), await world.account("stranger")
    cats = await world.group("cats", display_name="Cat Lovers")
    dogs = await world.group("dogs", domain="lemmy.test")
    await world.follow(viewer.id, bob)
    await world.follow(viewer.id, cats)
    await world.follow(viewer.id, dogs)
    in_dogs = await world.post(stranger, "woof from dogs", community_id=dogs)
    in_cats = await world.post(stranger, "meow from cats", community_id=cats)
    older = await world.posts(bob, 30)
    bob_in_cats = await world.post(bob, "bob meows", community_id=cats)
    main = [*await world.posts(bob, 14), bob_in_cats, *older]

    response = await client.get("/")
    assert response.status == 200
    html = await response.text()
    shown = [int(x) for x in POST_IDS_RE.findall(html)]
    assert len(shown) == 40 + 2
    assert shown[:12] == [*main[:5], in_cats, *main[5:10], in_dogs]
    assert shown[12:] == main[10:40]
    articles = _articles(html)
    assert 'data-inserted="community"' in articles[in_cats]
    assert 'from community <a href="/c/cats">Cat Lovers</a>' in articles[in_cats]
    assert 'from community <a href="/c/dogs@lemmy.test">Dogs</a>' in articles[in_dogs]
    assert 'data-inserted="community"' in articles[in_dogs]
    # Bob's community post is in the feed anyway (he is followed): marked, not inserted.
    assert 'from community <a href="/c/cats">Cat Lovers</a>' in articles[bob_in_cats]
    assert "data-inserted" not in articles[bob_in_cats]
    assert "from community" not in articles[main[1]]
    assert html.count('data-inserted="community"') == 2

    link = NEXT_RE.search(html)
    assert link is not None
    assert (int(link.group(1)), int(link.group(2))) == (main[39], in_dogs)
    second = await (await client.get(f"/?max_id={link.group(1)}&cmax_id={link.group(2)}")).text()
    # The community stream is used up: the rest of the feed, nothing repeated, no next page.
    assert [int(x) for x in POST_IDS_RE.findall(second)] == main[40:]
    assert 'rel="next"' not in second
    assert (await client.get("/?cmax_id=abc")).status == 400


async def test_web_home__off_in_settings_then_no_community_posts(
    make_client: ClientFactory, services: Services, world: World
) -> None:
    client = await make_client()
    await log_in(client, await make_user(services, "alice"))
    user = (await services.accounts.list_users())[0]
    bob, stranger = await world.account("bob"), await world.account("stranger")
    cats = await world.group("cats")
    await world.follow(user.account.id, bob)
    await world.follow(user.account.id, cats)
    in_cats = await world.post(stranger, "meow", community_id=cats)
    main = await world.posts(bob, 10)

    form = await (await client.get("/settings/feed")).text()
    assert 'name="community_feed_every" value="5" checked' in form
    for value in ("0", "3", "10", "20"):
        assert f'name="community_feed_every" value="{value}">' in form
    assert 'href="/settings/feed"' in await (await client.get("/settings/profile")).text()

    token = await csrf_token(client, "/settings/feed")
    response = await client.post(
        "/settings/feed",
        data={"community_feed_every": "10", "csrf_token": token},
        allow_redirects=False,
    )
    assert response.status == 303
    assert response.headers["Location"] == "/settings/feed?saved=1"
    saved = await (await client.get("/settings/feed?saved=1")).text()
    assert 'name="community_feed_every" value="10" checked' in saved
    assert "Saved." in saved
    home = await (await client.get("/")).text()
    assert [int(x) for x in POST_IDS_RE.findall(home)] == [*main, in_cats]

    response = await client.post(
        "/settings/feed", data={"community_feed_every": "0", "csrf_token": token}
    )
    assert response.status == 200
    home = await (await client.get("/")).text()
    assert [int(x) for x in POST_IDS_RE.findall(home)] == main
    assert "from community" not in home

    response = await client.post(
        "/settings/feed", data={"community_feed_every": "7", "csrf_token": token}
    )
    assert response.status == 422
    assert "one community post every 3, 5, 10 or 20 posts" in await response.text()
    response = await client.post("/settings/feed", data={"community_feed_every": "3"})
    assert response.status == 403  # no CSRF token
    async with services.db.begin() as session:
        stored = await session.scalar(select(User.community_feed_every).where(User.id == user.id))
    assert stored == 0


async def test_web_settings_feed__needs_a_login(make_client: ClientFactory) -> None:
    client = await make_client()
    response = await client.get("/settings/feed", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/login")
