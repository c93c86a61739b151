"""Live pages over SSE on real instances: home, community, thread, notifications; resume."""

from __future__ import annotations

import pytest

from kizuna.container import Services
from kizuna.services.communities import NewCommunity
from kizuna.storage.models import Account
from tests.integration.lab import Network
from tests.integration.sse import open_stream
from tests.integration.web import Person, log_in


async def person(services: Services, name: str) -> tuple[Person, Account]:
    password = f"pw-{name}-long"
    user = await services.accounts.create_user(name, password)
    return Person(name, password), user.account


async def test_home_stream__followed_posts_arrive_rendered_others_do_not(network: Network) -> None:
    a = await network.start("a.test")
    alice, me = await person(a.services, "alice")
    _, bob = await person(a.services, "bob")
    _, carol = await person(a.services, "carol")
    await a.services.follows.follow(me, "bob")
    await log_in(a.browser, alice)

    stream = await open_stream(a.browser, "/live/home")
    await a.services.posts.create(carol, "carol is not followed")
    first = await a.services.posts.create(bob, "first from bob")
    event = await stream.next_named("post")
    assert event.data["id"] == str(first.id)
    assert "first from bob" in event.data["html"]
    assert f'data-post-id="{first.id}"' in event.data["html"]
    assert event.id is not None
    assert int(event.id) >= first.id
    stream.close()


async def test_resume__last_event_id_gets_what_was_posted_while_away(network: Network) -> None:
    a = await network.start("a.test")
    alice, me = await person(a.services, "alice")
    _, bob = await person(a.services, "bob")
    await a.services.follows.follow(me, "bob")
    await log_in(a.browser, alice)

    stream = await open_stream(a.browser, "/live/home")
    seen = await a.services.posts.create(bob, "seen live")
    assert (await stream.next_named("post")).data["id"] == str(seen.id)
    position = stream.last_id
    stream.close()
    away = [await a.services.posts.create(bob, f"while away {i}") for i in range(3)]

    resumed = await open_stream(a.browser, "/live/home", last_event_id=position)
    # The re-read reaches a few seconds back: the post already seen may come again (readers
    # drop it by id), the ones made while away must all come, oldest first.
    events = await resumed.posts(3 + 1)
    ids = [e.data["id"] for e in events if e.data["id"] != str(seen.id)]
    assert ids[:3] == [str(p.id) for p in away]
    resumed.close()


async def test_garbage_last_event_id__400_with_a_reason(network: Network) -> None:
    a = await network.start("a.test")
    alice, _ = await person(a.services, "alice")
    await log_in(a.browser, alice)
    for bad in ("abc", "-5", "1e9", "9" * 40, "１２３"):
        response = await a.browser.get("/live/home", headers={"Last-Event-ID": bad})
        assert response.status == 400, bad
        assert "Last-Event-ID" in await response.text()
    bad_since = await a.browser.get("/live/home?since=yesterday")
    assert bad_since.status == 400
    # An id from the future (a confused client) starts from now instead of skipping posts.
    future = await open_stream(a.browser, "/live/home", last_event_id=str(2**62))
    ready_cursor = int(future.last_id or "0")
    assert 0 < ready_cursor < 2**62
    future.close()


async def test_home_stream_needs_a_login(network: Network) -> None:
    a = await network.start("a.test")
    response = await a.browser.get("/live/home")
    assert response.status == 401
    assert (await a.browser.get("/live/notifications")).status == 401


async def test_a_new_follow_joins_the_open_stream(network: Network) -> None:
    a = await network.start("a.test")
    alice, me = await person(a.services, "alice")
    _, dave = await person(a.services, "dave")
    await log_in(a.browser, alice)
    stream = await open_stream(a.browser, "/live/home")
    await a.services.follows.follow(me, "dave")
    post = await a.services.posts.create(dave, "dave, followed a moment ago")
    assert (await stream.next_named("post")).data["id"] == str(post.id)
    stream.close()


async def test_a_post_made_before_the_stream_watches_its_new_author_still_arrives(
    network: Network,
) -> None:
    # The follow's hint is waiting and the stream has not yet read it (so it does not watch
    # dave) when dave posts: that post's hint goes nowhere, and the read after the follow
    # must find it from the cursor.
    a = await network.start("a.test")
    _, me = await person(a.services, "alice")
    _, dave = await person(a.services, "dave")
    stream = await a.services.live.home(me)
    try:
        await a.services.follows.follow(me, "dave")
        post = await a.services.posts.create(dave, "posted before the stream watched dave")
        batch = await stream.read()
        assert [p.id for p in batch.posts] == [post.id]
    finally:
        stream.close()


async def test_notifications_reach_every_live_page_of_the_user(network: Network) -> None:
    a = await network.start("a.test")
    alice, me = await person(a.services, "alice")
    _, carol = await person(a.services, "carol")
    await log_in(a.browser, alice)
    mine = await a.services.posts.create(me, "like this")
    stream = await open_stream(a.browser, "/live/notifications")
    await a.services.interactions.like(carol, mine.id)
    event = await stream.next_named("notification")
    assert event.data == {"count": 1}
    stream.close()


async def test_community_stream__threads_in_that_community_only(network: Network) -> None:
    a = await network.start("a.test")
    _, owner = await person(a.services, "owner")
    _, bob = await person(a.services, "bob")
    await a.services.communities.create(owner, NewCommunity(slug="tokyo", name="Tokyo"))
    await a.services.communities.create(owner, NewCommunity(slug="osaka", name="Osaka"))
    await a.services.communities.join(bob, "tokyo")
    await a.services.communities.join(bob, "osaka")

    stream = await open_stream(a.browser, "/live/c/tokyo")  # a visitor, not logged in
    await a.services.communities.post(bob, "osaka", "in Osaka")
    await a.services.posts.create(bob, "not in a community")
    thread = await a.services.communities.post(bob, "tokyo", "in Tokyo")
    event = await stream.next_named("post")
    assert event.data["id"] == str(thread.id)
    assert event.data["html"].startswith('<div class="thread">')
    stream.close()


async def test_thread_stream__replies_and_replies_to_replies(network: Network) -> None:
    a = await network.start("a.test")
    _, bob = await person(a.services, "bob")
    _, carol = await person(a.services, "carol")
    root = await a.services.posts.create(bob, "what do you think?")
    stream = await open_stream(a.browser, f"/live/posts/{root.id}")
    await a.services.posts.create(carol, "elsewhere")
    reply = await a.services.posts.create(carol, "@bob yes", in_reply_to=root.id)
    assert (await stream.next_named("post")).data["id"] == str(reply.id)
    deeper = await a.services.posts.create(bob, "@carol thanks", in_reply_to=reply.id)
    assert (await stream.next_named("post")).data["id"] == str(deeper.id)
    stream.close()
    hidden = await a.services.posts.create(bob, "only followers", visibility="private")
    response = await a.browser.get(f"/live/posts/{hidden.id}")
    assert response.status == 404  # the same rule as the page itself


async def test_a_followed_remote_post_arrives_live(network: Network) -> None:
    a = await network.start("a.test")
    b = await network.start("b.test")
    _, alice = await person(a.services, "alice")
    bob_login, bob = await person(b.services, "bob")
    remote_alice = await b.services.remote_accounts.resolve("@alice@a.test")
    await b.services.follows.follow_account(bob, remote_alice.id)
    await network.drain()
    await log_in(b.browser, bob_login)
    stream = await open_stream(b.browser, "/live/home")
    post = await a.services.posts.create(alice, "from a.test, live on b.test")
    await network.drain()
    event = await stream.next_named("post")
    assert event.data["uri"] == post.uri
    assert "live on b.test" in event.data["html"]
    stream.close()


async def test_a_stream_ends_when_its_log_in_does(network: Network) -> None:
    a = await network.start("a.test", live_heartbeat=0.05)
    alice, me = await person(a.services, "alice")
    _, bob = await person(a.services, "bob")
    await a.services.follows.follow(me, "bob")
    await log_in(a.browser, alice)
    stream = await open_stream(a.browser, "/live/home")
    token = next(c.value for c in a.browser.session.cookie_jar if c.key == "kizuna_session")
    await a.services.accounts.end_session(token)  # logged out in another tab
    with pytest.raises(EOFError):
        await stream.next(wait=10)
    await a.services.posts.create(bob, "followers only", visibility="private")
    again = await a.browser.get("/live/home")
    assert again.status == 401
