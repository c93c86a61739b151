"""Hostile text in every field another server can make us store, through every page.

One remote actor (Person) and one remote note (a Question, so that poll options are stored
too) carry the same hostile string in each field we keep: display name, bio, profile field
names and values, avatar and profile URLs, the note's content warning, content, URL, hashtag
names, emoji shortcodes, attachment alt text and URL, poll options; a remote Group carries it
in its name and description; a second actor has it as its username. They reach the instance
through its real inbox, signed, and every page and JSON document that shows them is read
with a real HTML parser: no element or attribute from the hostile string may appear.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from kizuna.activitypub.ids import tag_path
from kizuna.activitypub.text import normalize_hashtag
from kizuna.storage import repo
from kizuna.storage.models import Account, Follow, Post
from tests.fakes.mastodon import FakeMastodon
from tests.integration.lab import Instance, Network
from tests.integration.sse import open_stream
from tests.integration.web import log_in, make_user

# Closes a double- or single-quoted attribute, then opens elements a reader must never get.
EVIL = (
    'x"\'><meta http-equiv="refresh" content="0;url=https://evil.example/">'
    "<script>pwned()</script><img src=x onerror=pwned() pwned=1>"
    '<a href="javascript:pwned()" pwned=2>j</a>'
)
EVIL_URL = f"https://m.test/{EVIL}"
# At most 64 characters, as a username column holds.
EVIL_USERNAME = '"><meta http-equiv=refresh content=0;url=//evil.example>'


class Hostile(FakeMastodon):
    """A peer whose actor document has EVIL in every field (the username only if told)."""

    def __init__(self, domain: str, username: str, *, evil_username: bool = False) -> None:
        super().__init__(domain, username)
        self.evil_username = evil_username
        self.kind = "Person"

    def actor(self) -> dict[str, Any]:
        doc = super().actor()
        doc.update(
            type=self.kind,
            name=f"{EVIL} :blob:",
            summary=f"<p>{EVIL}</p>",
            url=EVIL_URL,
            icon={"type": "Image", "url": f"{EVIL_URL}.png"},
            image={"type": "Image", "url": f"{EVIL_URL}.jpg"},
            attachment=[{"type": "PropertyValue", "name": EVIL, "value": EVIL}],
            tag=[{"type": "Emoji", "name": f":{EVIL}:", "icon": {"url": EVIL_URL}}],
        )
        if self.evil_username:
            doc["preferredUsername"] = EVIL_USERNAME
        return doc


async def deliver(b: Instance, peer: FakeMastodon, doc: dict[str, Any]) -> int:
    body = json.dumps(doc).encode()
    response = await b.browser.post(
        "/inbox", data=body, headers=peer.sign("https://b.test/inbox", body)
    )
    return response.status


def question(pat: Hostile, evil: Hostile) -> dict[str, Any]:
    note_id = "https://m.test/users/pat/statuses/1"
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{note_id}/activity",
        "type": "Create",
        "actor": pat.actor_id,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {
            "id": note_id,
            "type": "Question",
            "attributedTo": pat.actor_id,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "cc": ["https://b.test/users/bob"],
            "url": EVIL_URL,
            "summary": EVIL,
            "content": (
                f"<p>{EVIL} :blob: "
                f'<a href="{evil.actor_id}" class="u-url mention">@evil</a> '
                '<a href="https://b.test/users/bob" class="u-url mention">@bob</a> '
                f'<a href="https://m.test/tags/{EVIL}" class="mention hashtag">#evil</a> '
                '<a href="https://m.test/tags/sweep" class="mention hashtag">#sweep</a></p>'
            ),
            "tag": [
                {"type": "Mention", "href": evil.actor_id, "name": "@evil@x.test"},
                {"type": "Mention", "href": "https://b.test/users/bob", "name": "@bob"},
                {"type": "Hashtag", "href": f"https://m.test/tags/{EVIL}", "name": f"#{EVIL}"},
                {"type": "Hashtag", "href": "https://m.test/tags/sweep", "name": "#sweep"},
                {"type": "Emoji", "name": f":{EVIL}:", "icon": {"url": EVIL_URL}},
                {"type": "Emoji", "name": ":blob:", "icon": {"url": f"{EVIL_URL}.png"}},
            ],
            "attachment": [
                {"type": "Document", "mediaType": "image/png", "url": EVIL_URL, "name": EVIL}
            ],
            "oneOf": [{"type": "Note", "name": EVIL}, {"type": "Note", "name": "plain"}],
            "published": "2026-01-01T00:00:00Z",
        },
    }


class Markup(HTMLParser):
    """Every element and attribute of a page, as a browser's tokenizer reads them."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))


def injected(page: str) -> list[str]:
    """What the hostile string managed to add to a page as markup."""
    found = []
    for tag, attrs in Markup(page).elements:
        if tag == "meta" and "http-equiv" in attrs:
            found.append(f"<meta {attrs}>")
        if tag == "script" and not (attrs.get("src") or "").startswith("/static/"):
            found.append(f"<script {attrs}>")
        if tag == "img" and attrs.get("src") == "x":
            found.append(f"<img {attrs}>")
        for name, value in attrs.items():
            if name.startswith("on") or name == "pwned":
                found.append(f"<{tag} {name}={value!r}>")
            if (value or "").strip().lower().startswith("javascript:"):
                found.append(f"<{tag} {name}={value!r}>")
    return found


def html_in(doc: Any) -> list[str]:
    """The HTML strings of a JSON document (content, bios, field values, rendered cards)."""
    if isinstance(doc, dict):
        return [
            s
            for key, value in doc.items()
            for s in (
                [value]
                if isinstance(value, str) and key in ("content", "note", "value", "html", "summary")
                else html_in(value)
            )
        ]
    if isinstance(doc, list):
        return [s for item in doc for s in html_in(item)]
    return []


async def test_hostile_fields_everywhere__nothing_escapes(network: Network) -> None:
    b = await network.start("b.test")
    bob_person = await make_user(b.services, "bob", role="admin")
    pat = Hostile("m.test", "pat")
    evil = Hostile("x.test", "evil", evil_username=True)
    club = Hostile("g.test", "club")
    club.kind = "Group"
    for peer in (pat, evil, club):
        await network.serve(peer.domain, peer.app)
    async with b.services.db.begin() as session:
        bob = await repo.get_account_by_username(session, "bob")
        assert bob is not None

    evil_follow = await deliver(b, evil, evil.follow("https://b.test/users/bob", 2))
    assert await deliver(b, pat, pat.follow("https://b.test/users/bob")) == 202
    await network.drain()
    group = await b.services.remote_accounts.resolve_url(club.actor_id)
    async with b.services.db.begin() as session:
        known = await repo.get_account_by_uri(session, pat.actor_id)
        assert known is not None
        now = datetime.now(UTC)
        session.add(Follow(account_id=bob.id, target_account_id=known.id, created_at=now))
        session.add(Follow(account_id=bob.id, target_account_id=group.id, created_at=now))

    await log_in(b.browser, bob_person)
    stream = await open_stream(b.browser, "/live/home")
    assert await deliver(b, pat, question(pat, evil)) == 202
    await network.drain()
    live = await stream.next_named("post")
    stream.close()
    async with b.services.db.begin() as session:
        post = await repo.get_post_by_uri(session, "https://m.test/users/pat/statuses/1")
        assert post is not None
        assert post.summary.startswith("x\"'>")  # text of the warning: shown escaped
        author: Account = await repo.get_account(session, post.account_id)  # type: ignore[assignment]
        assert EVIL in author.display_name
        evil_known = await repo.get_account_by_uri(session, evil.actor_id)
    reply: Post = await b.services.posts.create(bob, "@pat@m.test hi", in_reply_to=post.id)
    report = await b.services.reports.create(bob, author.id, post_ids=[post.id], comment=EVIL)

    pages = [
        "/",
        "/public",
        "/tags/sweep",
        tag_path(normalize_hashtag(EVIL)),
        f"/@{author.acct}",
        f"/posts/{post.id}",
        f"/posts/{reply.id}",
        f"/@{author.acct}/{post.id}",
        f"/c/{group.acct}",
        "/communities",
        "/notifications",
        "/search?q=pat",
        f"/search?q={pat.actor_id}",
        "/admin",
        "/admin/accounts",
        f"/admin/accounts/{author.id}",
        "/admin/reports",
        f"/admin/reports/{report.id}",
        "/admin/federation",
        f"/report?account={author.id}",
    ]
    shown: dict[str, str] = {}
    for path in pages:
        response = await b.browser.get(path)
        assert response.status == 200, (path, response.status)
        shown[path] = await response.text()
    documents: dict[str, Any] = {"live card": live.data}
    for path in (
        "/api/timelines/home",
        f"/api/posts/{post.id}/reactions",
        "/admin/federation.json",
        "/api/blocks",
    ):
        response = await b.browser.get(path)
        assert response.status == 200, (path, response.status)
        documents[path] = await response.json()
    for path in (f"/users/bob/statuses/{reply.id}", "/users/bob/outbox?page=true"):
        response = await b.browser.get(path, headers={"Accept": "application/activity+json"})
        assert response.status == 200, (path, response.status)
        documents[path] = await response.json()

    # The hostile text is there, as text, wherever its field is shown.
    for path in (f"/posts/{post.id}", f"/@{author.acct}", f"/c/{group.acct}", "/notifications"):
        assert "pwned()" in shown[path], path
    assert "plain" in shown[f"/posts/{post.id}"]  # and so is the poll
    leaks = {path: injected(page) for path, page in shown.items()}
    leaks |= {
        f"{path} (JSON)": [x for s in html_in(doc) for x in injected(s)]
        for path, doc in documents.items()
    }
    assert {path: found for path, found in leaks.items() if found} == {}
    assert html_in(documents["live card"])
    assert html_in(documents["/api/timelines/home"])
    # The hostile username was refused at the door: its key's owner is no actor we keep.
    assert evil_follow == 400
    assert evil_known is None
