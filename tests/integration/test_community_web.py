"""Communities through the web UI: creating, the directory, the Group actor at /c/SLUG,
joining (open and by approval), posting, and moderating (remove, ban, pin, appoint)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import aiohttp
from sqlalchemy import func, select

from kizuna.activitypub.vocab import ActorType
from kizuna.container import Services
from kizuna.federation.lookup import remote_key
from kizuna.services.communities import NewCommunity
from kizuna.storage import repo
from kizuna.storage.models import (
    Account,
    Community,
    CommunityBan,
    CommunityRole,
    Follow,
    ModerationLogEntry,
    Post,
)
from tests.integration.conftest import ClientFactory
from tests.integration.test_profile import tiny_png
from tests.integration.web import (
    Client,
    Person,
    csrf_token,
    log_in,
    make_user,
    stored_account,
    submit,
)

POST_IDS_RE = re.compile(r'data-post-id="(\d+)"')
ENTRY_RE = re.compile(r'<article class="community-entry">(.*?)</article>', re.S)


# -- helpers ------------------------------------------------------------------------------


async def _user(make_client: ClientFactory, services: Services, name: str) -> Client:
    """A logged-in browser of a new user `name`."""
    client = await make_client()
    person: Person = await make_user(services, name)
    await log_in(client, person)
    return client


async def _community(
    services: Services, owner: str, slug: str, name: str = "", **options: object
) -> Account:
    """A community made by the service directly (setup for tests about other pages)."""
    new = NewCommunity(slug=slug, name=name or slug.title(), **options)  # type: ignore[arg-type]
    return await services.communities.create(await stored_account(services, owner), new)


async def _cats_with_member(
    make_client: ClientFactory, services: Services
) -> tuple[Account, Client, Client, int]:
    """!cats owned by alice, bob a member: (group, alice's browser, bob's, bob's id)."""
    await make_user(services, "alice")
    group = await _community(services, "alice", "cats", "Cat lovers")
    alice = await make_client()
    await log_in(alice, Person("alice", "pw-alice-long"))
    bob = await _user(make_client, services, "bob")
    bob_id = (await stored_account(services, "bob")).id
    assert (await _act(bob, "/c/cats/join", form_page="/c/cats")).status == 303
    return group, alice, bob, bob_id


async def _create_form(
    client: Client, *, icon: bytes | None = None, **fields: str
) -> aiohttp.ClientResponse:
    form = aiohttp.FormData()
    form.add_field("csrf_token", await csrf_token(client, "/communities/new"))
    for key, value in fields.items():
        form.add_field(key, value)
    if icon is not None:
        form.add_field("icon", icon, filename="icon.png", content_type="image/png")
    return await client.post("/communities/new", data=form, allow_redirects=False)


async def _post_to(client: Client, slug: str, content: str) -> aiohttp.ClientResponse:
    return await submit(client, f"/c/{slug}/posts", {"content": content}, form_page=f"/c/{slug}")


async def _act(
    client: Client, path: str, data: dict[str, str] | None = None, *, form_page: str
) -> aiohttp.ClientResponse:
    return await submit(client, path, data or {}, form_page=form_page)


async def _page(client: Client, path: str) -> str:
    response = await client.get(path)
    assert response.status == 200, await response.text()
    return await response.text()


async def _count(services: Services, model: type[object], *where: object) -> int:
    async with services.db.begin() as session:
        stmt = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
        return int(await session.scalar(stmt) or 0)


async def _follow(services: Services, account_id: int, group_id: int) -> Follow | None:
    async with services.db.begin() as session:
        return await repo.get_follow(session, account_id, group_id)


async def _posts_by(services: Services, account_id: int) -> list[Post]:
    async with services.db.begin() as session:
        stmt = select(Post).where(Post.account_id == account_id).order_by(Post.id)
        return list((await session.scalars(stmt)).all())


def _post_ids(page: str) -> list[int]:
    return [int(found) for found in POST_IDS_RE.findall(page)]


# -- creating -----------------------------------------------------------------------------


async def test_create_community_via_form_then_its_page(
    make_client: ClientFactory, services: Services
) -> None:
    alice = await _user(make_client, services, "alice")
    form_page = await _page(alice, "/communities/new")
    assert 'name="slug"' in form_page
    assert 'name="approval_required"' in form_page
    response = await _create_form(
        alice,
        icon=tiny_png(),
        slug="gardening",
        name="庭いじり Gardening",
        description="Seeds, soil and #bonsai",
        rules="1. Be kind\n2. No selling",
    )
    assert response.status == 303, await response.text()
    assert response.headers["Location"] == "/c/gardening"

    group = await stored_account(services, "gardening")
    assert group.actor_type == "Group"
    assert group.display_name == "庭いじり Gardening"
    assert group.locked is False
    assert group.avatar_path is not None
    assert group.avatar_path.endswith(".png")
    async with services.db.begin() as session:
        community = await session.get(Community, group.id)
        role = await session.get(
            CommunityRole, (group.id, (await stored_account(services, "alice")).id)
        )
    assert community is not None
    assert community.rules == "1. Be kind\n2. No selling"
    assert community.posting_restricted is False
    assert role is not None
    assert role.role == "owner"

    page = await _page(alice, "/c/gardening")
    assert '<h1 id="community-name">庭いじり Gardening</h1>' in page
    assert "!gardening@kizuna.test" in page
    assert 'href="http://kizuna.test/tags/bonsai"' in page  # the description is rendered HTML
    assert '<div class="rules">1. Be kind\n2. No selling</div>' in page
    assert '<span class="members">1 member</span>' in page
    assert '<span class="posts">0 posts</span>' in page
    assert "You own this community." in page
    assert '<a href="/c/gardening/moderation">Moderation</a>' in page
    assert "(owner)" in page
    assert 'action="/c/gardening/posts"' in page
    assert "No threads yet." in page
    # Linked from the directory and the nav.
    assert '<a href="/communities">Communities</a>' in page


async def test_create__slug_of_an_existing_user_is_refused_and_nothing_created(
    make_client: ClientFactory, services: Services
) -> None:
    await make_user(services, "bob")
    alice = await _user(make_client, services, "alice")
    response = await _create_form(alice, slug="bob", name="Bob fans", description="all about")
    assert response.status == 422
    body = await response.text()
    assert "the address &#39;bob&#39; is taken" in body
    assert 'value="Bob fans"' in body  # the form keeps what was typed
    assert ">all about</textarea>" in body
    assert await _count(services, Community) == 0
    assert await _count(services, Account, Account.actor_type == "Group") == 0


async def test_create__reserved_or_malformed_slug_is_refused(
    make_client: ClientFactory, services: Services
) -> None:
    alice = await _user(make_client, services, "alice")
    for slug, message in [
        ("admin", "the address &#39;admin&#39; is reserved"),
        ("new", "the address &#39;new&#39; is reserved"),
        ("a" * 31, "a community&#39;s address is 3 to 30 lowercase letters, digits or _"),
        ("Caps", "a community&#39;s address is 3 to 30 lowercase letters, digits or _"),
    ]:
        response = await _create_form(alice, slug=slug, name="Anything")
        assert response.status == 422, slug
        assert message in await response.text(), slug
    response = await _create_form(alice, slug="okname", name="")
    assert response.status == 422
    assert "a name of 1 to 50 characters" in await response.text()
    assert await _count(services, Community) == 0


async def test_create__needs_a_login(make_client: ClientFactory) -> None:
    client = await make_client()
    response = await client.get("/communities/new", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/login?next=")


# -- directory ----------------------------------------------------------------------------


async def test_directory_lists_counts_and_searches_by_name_and_description(
    make_client: ClientFactory, services: Services
) -> None:
    await make_user(services, "alice")
    bob = await _user(make_client, services, "bob")
    await _community(services, "alice", "cats", "Cat lovers", description="Whiskers and naps")
    await _community(services, "alice", "trains", "鉄道", description="Shinkansen timetables")
    assert (await _act(bob, "/c/cats/join", form_page="/c/cats")).status == 303
    assert (await _post_to(bob, "cats", "my cat sleeps")).status == 303

    page = await _page(bob, "/communities")
    entries = {
        re.search(r"!(\w+)</span>", entry).group(1): entry  # type: ignore[union-attr]
        for entry in ENTRY_RE.findall(page)
    }
    assert set(entries) == {"cats", "trains"}
    assert '<a href="/c/cats">Cat lovers</a>' in entries["cats"]
    assert "Whiskers and naps" in entries["cats"]
    assert '<span class="members">2 members</span>' in entries["cats"]
    assert '<span class="posts">1 post</span>' in entries["cats"]
    assert '<span class="members">1 member</span>' in entries["trains"]
    assert '<span class="posts">0 posts</span>' in entries["trains"]
    # Bob's own communities, and the create link.
    joined = page.split('id="joined-heading"')[1].split("</section>")[0]
    assert '<a href="/c/cats">Cat lovers</a>' in joined
    assert "/c/trains" not in joined
    assert '<a href="/communities/new">Create a community</a>' in page

    by_name = await _page(bob, "/communities?q=%E9%89%84%E9%81%93")  # 鉄道
    assert [m for m in ENTRY_RE.findall(by_name) if "!trains" in m]
    assert "!cats" not in by_name.split('id="directory-heading"')[1]
    by_description = await _page(bob, "/communities?q=whiskers")
    assert "!cats</span>" in by_description
    assert "!trains</span>" not in by_description
    nothing = await _page(bob, "/communities?q=zzz")
    assert ENTRY_RE.findall(nothing) == []
    assert "No community matches “zzz”." in nothing


async def test_directory_is_public_and_find_goes_to_a_local_community(
    make_client: ClientFactory, services: Services
) -> None:
    await make_user(services, "alice")
    await _community(services, "alice", "cats", "Cat lovers")
    anonymous = await make_client()
    page = await _page(anonymous, "/communities")
    assert "!cats</span>" in page
    assert 'action="/communities/find"' not in page  # remote lookups: members only

    bob = await _user(make_client, services, "bob")
    found = await bob.get("/communities/find?q=%21cats", allow_redirects=False)
    assert found.status == 303
    assert found.headers["Location"] == "/c/cats"
    missing = await bob.get("/communities/find?q=nosuch", allow_redirects=False)
    assert missing.status == 404
    assert "Could not find nosuch: no community !nosuch known here" in await missing.text()


# -- the Group actor ----------------------------------------------------------------------


async def test_community_url_serves_the_group_actor_to_peers(
    make_client: ClientFactory, services: Services
) -> None:
    await make_user(services, "alice")
    await _community(services, "alice", "news", "News", posting_restricted=True)
    client = await make_client()
    response = await client.get("/c/news", headers={"Accept": "application/activity+json"})
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/activity+json")
    doc = json.loads(await response.read())
    assert doc["type"] == "Group"
    assert doc["id"] == "http://kizuna.test/c/news"
    assert doc["preferredUsername"] == "news"
    assert doc["attributedTo"] == "http://kizuna.test/c/news/moderators"
    assert doc["postingRestrictedToMods"] is True
    assert doc["inbox"] == "http://kizuna.test/c/news/inbox"

    html = await client.get("/c/news", headers={"Accept": "text/html"})
    assert html.status == 200
    assert html.content_type == "text/html"
    assert html.headers["Vary"] == "Accept"
    assert "Only moderators start threads here." in await html.text()

    missing = await client.get("/c/nothing", headers={"Accept": "application/activity+json"})
    assert missing.status == 404
    assert (await client.get("/c/nothing")).status == 404


# -- joining ------------------------------------------------------------------------------


async def test_join_an_open_community_then_leave(
    make_client: ClientFactory, services: Services
) -> None:
    await make_user(services, "alice")
    group = await _community(services, "alice", "cats", "Cat lovers")
    bob = await _user(make_client, services, "bob")
    bob_id = (await stored_account(services, "bob")).id

    before = await _page(bob, "/c/cats")
    assert '<button type="submit">Join</button>' in before
    assert 'action="/c/cats/posts"' not in before  # no compose form before joining
    response = await _act(bob, "/c/cats/join", form_page="/c/cats")
    assert response.status == 303
    assert response.headers["Location"] == "/c/cats"
    follow = await _follow(services, bob_id, group.id)
    assert follow is not None
    assert follow.state == "accepted"

    page = await _page(bob, "/c/cats")
    assert '<button type="submit" class="secondary">Leave</button>' in page
    assert '<span class="members">2 members</span>' in page
    assert 'action="/c/cats/posts"' in page
    assert '<a href="/c/cats/moderation">' not in page  # not a moderator

    assert (await _act(bob, "/c/cats/leave", form_page="/c/cats")).status == 303
    assert await _follow(services, bob_id, group.id) is None
    assert '<span class="members">1 member</span>' in await _page(bob, "/c/cats")


async def test_join_by_approval_then_moderator_approves_on_moderation_page(
    make_client: ClientFactory, services: Services
) -> None:
    await make_user(services, "alice")
    group = await _community(services, "alice", "quiet", "Quiet room", approval_required=True)
    alice = await make_client()
    await log_in(alice, Person("alice", "pw-alice-long"))
    bob = await _user(make_client, services, "bob")
    carol = await _user(make_client, services, "carol")
    bob_id = (await stored_account(services, "bob")).id
    carol_id = (await stored_account(services, "carol")).id

    assert '<button type="submit">Ask to join</button>' in await _page(bob, "/c/quiet")
    for client in (bob, carol):
        assert (await _act(client, "/c/quiet/join", form_page="/c/quiet")).status == 303
    follow = await _follow(services, bob_id, group.id)
    assert follow is not None
    assert follow.state == "pending"
    waiting = await _page(bob, "/c/quiet")
    assert 'aria-label="Cancel join request">Requested</button>' in waiting
    assert 'action="/c/quiet/posts"' not in waiting
    # A pending member cannot post yet.
    assert (await _post_to(bob, "quiet", "hello?")).status == 403
    assert await _posts_by(services, bob_id) == []

    # Only moderators see the moderation page.
    assert (await bob.get("/c/quiet/moderation")).status == 403
    moderation = await _page(alice, "/c/quiet/moderation")
    requests = moderation.split('id="requests-heading"')[1].split("</section>")[0]
    assert f'action="/c/quiet/requests/{bob_id}/approve"' in requests
    assert f'action="/c/quiet/requests/{carol_id}/reject"' in requests

    approved = await _act(
        alice, f"/c/quiet/requests/{bob_id}/approve", form_page="/c/quiet/moderation"
    )
    assert approved.status == 303
    assert approved.headers["Location"] == "/c/quiet/moderation"
    rejected = await _act(
        alice, f"/c/quiet/requests/{carol_id}/reject", form_page="/c/quiet/moderation"
    )
    assert rejected.status == 303
    follow = await _follow(services, bob_id, group.id)
    assert follow is not None
    assert follow.state == "accepted"
    assert await _follow(services, carol_id, group.id) is None

    moderation = await _page(alice, "/c/quiet/moderation")
    assert "No pending requests." in moderation
    members = moderation.split('id="members-heading"')[1].split("</section>")[0]
    assert 'id="member-' + str(bob_id) + '"' in members
    log = moderation.split('id="log-heading"')[1]
    assert 'Approved the join request of <a href="/@bob">@bob</a>' in log
    assert 'Rejected the join request of <a href="/@carol">@carol</a>' in log
    assert '<button type="submit" class="secondary">Leave</button>' in await _page(bob, "/c/quiet")


# -- posting ------------------------------------------------------------------------------


async def test_member_posts_show_on_the_page_and_non_members_are_refused(
    make_client: ClientFactory, services: Services
) -> None:
    await make_user(services, "alice")
    group = await _community(services, "alice", "cats", "Cat lovers")
    bob = await _user(make_client, services, "bob")
    carol = await _user(make_client, services, "carol")
    assert (await _act(bob, "/c/cats/join", form_page="/c/cats")).status == 303

    response = await _post_to(bob, "cats", "うちの猫は寝てばかり")
    assert response.status == 303
    [post] = await _posts_by(services, (await stored_account(services, "bob")).id)
    assert response.headers["Location"] == f"/c/cats#post-{post.id}"
    assert post.community_id == group.id
    assert post.visibility == "public"
    page = await _page(carol, "/c/cats")
    assert "うちの猫は寝てばかり" in page
    assert _post_ids(page) == [post.id]
    assert '<span class="posts">1 post</span>' in page

    refused = await _post_to(carol, "cats", "let me in")
    assert refused.status == 403
    assert "join !cats before posting in it" in await refused.text()
    assert await _posts_by(services, (await stored_account(services, "carol")).id) == []

    too_long = await _post_to(bob, "cats", "あ" * 151)
    assert too_long.status == 422
    body = await too_long.text()
    assert "at most 150 characters; this one has 151" in body
    assert "あ" * 151 in body  # the draft is kept
    assert len(await _posts_by(services, (await stored_account(services, "bob")).id)) == 1


async def test_posting_restricted_community_takes_threads_from_moderators_only(
    make_client: ClientFactory, services: Services
) -> None:
    await make_user(services, "alice")
    group = await _community(services, "alice", "news", "News", posting_restricted=True)
    alice = await make_client()
    await log_in(alice, Person("alice", "pw-alice-long"))
    bob = await _user(make_client, services, "bob")
    bob_id = (await stored_account(services, "bob")).id
    assert (await _act(bob, "/c/news/join", form_page="/c/news")).status == 303

    page = await _page(bob, "/c/news")
    assert 'action="/c/news/posts"' not in page
    assert "Only moderators start threads here; you can reply to theirs." in page
    refused = await _post_to(bob, "news", "breaking: my lunch")
    assert refused.status == 403
    assert "only moderators start threads in !news" in await refused.text()
    assert await _posts_by(services, bob_id) == []

    assert (await _post_to(alice, "news", "Weekly thread")).status == 303
    [thread] = await _posts_by(services, (await stored_account(services, "alice")).id)
    assert thread.community_id == group.id
    assert "Weekly thread" in await _page(bob, "/c/news")

    # Members still reply, through the ordinary reply flow; the reply joins the community.
    reply = await submit(
        bob, "/posts", {"content": "nice", "in_reply_to": str(thread.id)}, form_page="/c/news"
    )
    assert reply.status == 303
    [answer] = await _posts_by(services, bob_id)
    assert answer.in_reply_to_id == thread.id
    assert answer.community_id == group.id


# -- moderating ---------------------------------------------------------------------------


async def test_moderator_removes_a_post_and_the_log_says_so(
    make_client: ClientFactory, services: Services
) -> None:
    await make_user(services, "alice")
    group = await _community(services, "alice", "cats", "Cat lovers")
    alice = await make_client()
    await log_in(alice, Person("alice", "pw-alice-long"))
    bob = await _user(make_client, services, "bob")
    assert (await _act(bob, "/c/cats/join", form_page="/c/cats")).status == 303
    assert (await _post_to(bob, "cats", "buy cheap watches")).status == 303
    [post] = await _posts_by(services, (await stored_account(services, "bob")).id)

    bob_view = await _page(bob, "/c/cats")
    assert f'action="/c/cats/posts/{post.id}/remove"' not in bob_view
    alice_view = await _page(alice, "/c/cats")
    assert f'action="/c/cats/posts/{post.id}/remove"' in alice_view
    assert f'action="/c/cats/posts/{post.id}/pin"' in alice_view

    # Not a moderator: refused, post untouched.
    denied = await _act(bob, f"/c/cats/posts/{post.id}/remove", {"reason": "x"}, form_page="/")
    assert denied.status == 403
    response = await _act(
        alice, f"/c/cats/posts/{post.id}/remove", {"reason": "spam"}, form_page="/c/cats"
    )
    assert response.status == 303
    assert response.headers["Location"] == "/c/cats"

    page = await _page(alice, "/c/cats")
    assert "buy cheap watches" not in page
    assert _post_ids(page) == []
    async with services.db.begin() as session:
        kept = await session.get(Post, post.id)
        [entry] = (
            await session.scalars(
                select(ModerationLogEntry).where(ModerationLogEntry.community_id == group.id)
            )
        ).all()
    assert kept is not None
    assert kept.community_id is None
    assert (entry.action, entry.reason, entry.post_uri) == ("remove_post", "spam", post.uri)
    log = (await _page(alice, "/c/cats/moderation")).split('id="log-heading"')[1]
    assert 'Removed a post <a href="/@bob">@bob</a>' in log
    assert '<a href="/@alice">@alice</a>' in log
    assert "<td>spam</td>" in log


async def test_ban_stops_posting_shows_in_log_then_unban(
    make_client: ClientFactory, services: Services
) -> None:
    group, alice, bob, bob_id = await _cats_with_member(make_client, services)

    members = (await _page(alice, "/c/cats/moderation")).split('id="members-heading"')[1]
    assert f'action="/c/cats/members/{bob_id}/ban"' in members
    alice_id = (await stored_account(services, "alice")).id
    assert f'action="/c/cats/members/{alice_id}/ban"' not in members  # no banning the owner

    banned = await _act(
        alice, f"/c/cats/members/{bob_id}/ban", {"reason": "trolling"}, form_page="/c/cats"
    )
    assert banned.status == 303
    assert banned.headers["Location"] == "/c/cats/moderation"
    assert await _follow(services, bob_id, group.id) is None
    assert await _count(services, CommunityBan, CommunityBan.account_id == bob_id) == 1

    page = await _page(bob, "/c/cats")
    assert "Banned: you can no longer post here." in page
    assert 'action="/c/cats/join"' not in page
    refused = await _post_to(bob, "cats", "I am back")
    assert refused.status == 403
    assert "you are banned from !cats" in await refused.text()
    rejoin = await _act(bob, "/c/cats/join", form_page="/c/cats")
    assert rejoin.status == 403
    assert "you are banned from !cats" in await rejoin.text()
    assert await _posts_by(services, bob_id) == []
    assert await _follow(services, bob_id, group.id) is None

    moderation = await _page(alice, "/c/cats/moderation")
    bans = moderation.split('id="bans-heading"')[1].split("</section>")[0]
    assert f'id="banned-{bob_id}"' in bans
    assert "trolling" in bans
    log = moderation.split('id="log-heading"')[1]
    assert 'Banned <a href="/@bob">@bob</a>' in log
    assert "<td>trolling</td>" in log

    unbanned = await _act(alice, f"/c/cats/members/{bob_id}/unban", form_page="/c/cats")
    assert unbanned.status == 303
    assert await _count(services, CommunityBan) == 0
    log = (await _page(alice, "/c/cats/moderation")).split('id="log-heading"')[1]
    assert 'Lifted the ban on <a href="/@bob">@bob</a>' in log
    assert '<button type="submit">Join</button>' in await _page(bob, "/c/cats")


async def test_pin_shows_the_thread_first_marked_pinned_then_unpin(
    make_client: ClientFactory, services: Services
) -> None:
    await make_user(services, "alice")
    await _community(services, "alice", "cats", "Cat lovers")
    alice = await make_client()
    await log_in(alice, Person("alice", "pw-alice-long"))
    bob = await _user(make_client, services, "bob")
    assert (await _act(bob, "/c/cats/join", form_page="/c/cats")).status == 303
    for text in ("FAQ: read me", "second", "third"):
        assert (await _post_to(bob, "cats", text)).status == 303
    faq, second, third = await _posts_by(services, (await stored_account(services, "bob")).id)
    assert _post_ids(await _page(bob, "/c/cats")) == [third.id, second.id, faq.id]

    denied = await _act(bob, f"/c/cats/posts/{faq.id}/pin", {"pinned": "1"}, form_page="/")
    assert denied.status == 403
    pinned = await _act(alice, f"/c/cats/posts/{faq.id}/pin", {"pinned": "1"}, form_page="/")
    assert pinned.status == 303
    assert pinned.headers["Location"] == f"/c/cats#post-{faq.id}"

    page = await _page(bob, "/c/cats")
    assert _post_ids(page) == [faq.id, third.id, second.id]  # first, and only once
    assert page.count('<p class="pinned-label">📌 Pinned</p>') == 1
    assert re.search(
        rf'<div class="thread pinned" data-pinned="true">\s*<p class="pinned-label">📌 Pinned</p>'
        rf'\s*<article class="post" id="post-{faq.id}"',
        page,
    )
    moderation = await _page(alice, "/c/cats/moderation")
    assert 'Pinned a post by <a href="/@bob">@bob</a>' in moderation
    alice_page = await _page(alice, "/c/cats")
    unpin_form = alice_page.split(f'action="/c/cats/posts/{faq.id}/pin"')[1].split("</form>")[0]
    assert '<input type="hidden" name="pinned" value="0">' in unpin_form
    assert '<button type="submit" class="link">Unpin</button>' in unpin_form

    unpinned = await _act(alice, f"/c/cats/posts/{faq.id}/pin", {"pinned": "0"}, form_page="/")
    assert unpinned.status == 303
    page = await _page(bob, "/c/cats")
    assert _post_ids(page) == [third.id, second.id, faq.id]
    assert "📌 Pinned" not in page
    bad = await _act(alice, f"/c/cats/posts/{faq.id}/pin", {"pinned": "yes"}, form_page="/")
    assert bad.status == 400


async def test_owner_appoints_a_moderator_who_can_then_moderate(
    make_client: ClientFactory, services: Services
) -> None:
    group, alice, bob, bob_id = await _cats_with_member(make_client, services)

    members = (await _page(alice, "/c/cats/moderation")).split('id="members-heading"')[1]
    assert f'action="/c/cats/members/{bob_id}/moderator"' in members
    made = await _act(
        alice, f"/c/cats/members/{bob_id}/moderator", {"on": "1"}, form_page="/c/cats"
    )
    assert made.status == 303
    async with services.db.begin() as session:
        role = await session.get(CommunityRole, (group.id, bob_id))
    assert role is not None
    assert role.role == "moderator"

    # Bob moderates now, but cannot appoint others (owner only).
    bob_moderation = await _page(bob, "/c/cats/moderation")
    assert "Make moderator" not in bob_moderation
    assert "(moderator)" in bob_moderation
    assert '<a href="/c/cats/moderation">Moderation</a>' in await _page(bob, "/c/cats")
    refused = await _act(
        bob, f"/c/cats/members/{bob_id}/moderator", {"on": "0"}, form_page="/c/cats"
    )
    assert refused.status == 403

    removed = await _act(
        alice, f"/c/cats/members/{bob_id}/moderator", {"on": "0"}, form_page="/c/cats"
    )
    assert removed.status == 303
    assert await _count(services, CommunityRole, CommunityRole.account_id == bob_id) == 0
    assert (await bob.get("/c/cats/moderation")).status == 403
    log = (await _page(alice, "/c/cats/moderation")).split('id="log-heading"')[1]
    assert 'Made moderator <a href="/@bob">@bob</a>' in log
    assert 'Removed as moderator <a href="/@bob">@bob</a>' in log


# -- security -----------------------------------------------------------------------------


async def test_community_forms_need_the_csrf_token_and_a_login(
    make_client: ClientFactory, services: Services
) -> None:
    await make_user(services, "alice")
    group = await _community(services, "alice", "cats", "Cat lovers")
    bob = await _user(make_client, services, "bob")
    bob_id = (await stored_account(services, "bob")).id
    forged = await bob.post("/c/cats/join", data={}, allow_redirects=False)
    assert forged.status == 403
    assert "did not come from this site" in await forged.text()
    forged_post = await bob.post("/c/cats/posts", data={"content": "x"}, allow_redirects=False)
    assert forged_post.status == 403
    assert await _follow(services, bob_id, group.id) is None

    # The Group's inbox is still for peers: signed, no cookie, no CSRF token.
    inbox = await bob.post(
        "/c/cats/inbox",
        data=b"{}",
        headers={"Content-Type": "application/activity+json"},
        allow_redirects=False,
    )
    assert inbox.status != 403 or "did not come from this site" not in await inbox.text()
    assert inbox.status in (400, 401)

    anonymous = await make_client()
    token = await csrf_token(anonymous, "/login")
    response = await anonymous.post(
        "/c/cats/join", data={"csrf_token": token}, allow_redirects=False
    )
    assert response.status == 303
    assert response.headers["Location"].startswith("/login?next=")
    assert "Log in</a> to join this community." in await _page(anonymous, "/c/cats")


# -- paging and remote communities --------------------------------------------------------


async def test_threads_page_by_twenty_and_pinned_only_on_the_first_page(
    make_client: ClientFactory, services: Services
) -> None:
    await make_user(services, "alice")
    await _community(services, "alice", "cats", "Cat lovers")
    alice = await stored_account(services, "alice")
    posts = [await services.communities.post(alice, "cats", f"thread {n}") for n in range(21)]
    newest_first = [p.id for p in reversed(posts)]
    group = await stored_account(services, "cats")
    await services.moderation.pin(group.id, alice, posts[0].id, pinned=True)
    client = await make_client()

    first = await _page(client, "/c/cats")
    # The pinned (oldest) thread leads, then the 20 newest threads.
    assert _post_ids(first) == [posts[0].id, *newest_first[:20]]
    assert f'<a href="?max_id={newest_first[19]}" rel="next">Older threads</a>' in first
    second = await _page(client, f"/c/cats?max_id={newest_first[19]}")
    assert _post_ids(second) == [posts[0].id]
    assert "📌 Pinned" not in second
    assert "Older threads" not in second
    assert (await client.get("/c/cats?max_id=abc")).status == 400


async def test_remote_community_page_and_no_moderation_here(
    make_client: ClientFactory, services: Services
) -> None:
    now = datetime.now(UTC)
    async with services.db.begin() as session:
        session.add(
            Account(
                username="lemmings",
                username_key=remote_key("lemmings", ActorType.GROUP),  # as lookup stores a Group
                domain="lemmy.test",
                uri="https://lemmy.test/c/lemmings",
                url="https://lemmy.test/c/lemmings",
                inbox_url="https://lemmy.test/c/lemmings/inbox",
                actor_type="Group",
                display_name="Lemmings",
                note_html="<p>From the fediverse</p>",
                raw={"postingRestrictedToMods": True},
                created_at=now,
                updated_at=now,
            )
        )
    bob = await _user(make_client, services, "bob")
    response = await bob.get(
        "/c/lemmings@lemmy.test", headers={"Accept": "application/activity+json"}
    )
    assert response.status == 200, await response.text()
    assert response.content_type == "text/html"  # not ours to serve as an actor
    page = await response.text()
    assert '<h1 id="community-name">Lemmings</h1>' in page
    assert "!lemmings@lemmy.test" in page
    assert "This community lives on lemmy.test." in page
    assert "Only moderators start threads here." in page
    assert 'action="/c/lemmings@lemmy.test/join"' in page
    assert "/moderation" not in page
    assert (await bob.get("/c/lemmings@lemmy.test/moderation")).status == 404
    found = await bob.get("/communities/find?q=%21lemmings%40lemmy.test", allow_redirects=False)
    assert found.status == 303
    assert found.headers["Location"] == "/c/lemmings@lemmy.test"

    # Joining one is a Follow its server answers: pending until then.
    joined = await _act(bob, "/c/lemmings@lemmy.test/join", form_page="/c/lemmings@lemmy.test")
    assert joined.status == 303
    assert joined.headers["Location"] == "/c/lemmings@lemmy.test"
    group = await services.communities.group("lemmings@lemmy.test")
    follow = await _follow(services, (await stored_account(services, "bob")).id, group.id)
    assert follow is not None
    assert follow.state == "pending"
    page = await _page(bob, "/c/lemmings@lemmy.test")
    assert 'aria-label="Cancel join request">Requested</button>' in page


async def test_moderators_change_the_settings_others_cannot(
    make_client: ClientFactory, services: Services
) -> None:
    _group, alice, bob, _ = await _cats_with_member(make_client, services)
    form = await _page(alice, "/c/cats/settings")
    assert 'value="Cat lovers"' in form
    assert 'name="slug"' not in form  # the address never changes
    assert (await bob.get("/c/cats/settings")).status == 403
    refused = await _act(bob, "/c/cats/settings", {"name": "Dog lovers"}, form_page="/c/cats")
    assert refused.status == 403
    saved = await _act(
        alice,
        "/c/cats/settings",
        {
            "name": "Cat lovers 猫",
            "description": "Whiskers",
            "rules": "Be kind",
            "approval_required": "on",
        },
        form_page="/c/cats/settings",
    )
    assert saved.status == 303
    changed = await stored_account(services, "cats")
    assert changed.display_name == "Cat lovers 猫"
    assert changed.locked is True
    too_long = await _act(
        alice, "/c/cats/settings", {"name": "x" * 60}, form_page="/c/cats/settings"
    )
    assert too_long.status == 422
    assert (await stored_account(services, "cats")).display_name == "Cat lovers 猫"
