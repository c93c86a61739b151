"""Custom emoji: admins upload ours; posts and names draw them; notes name them to peers
(never the instance-only ones); other servers' emoji are fetched from their icon URL (a fake
peer on loopback), capped and type-checked, and a bad one never costs the post."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select, update

from kizuna.config import Config
from kizuna.container import Services
from kizuna.errors import NotFoundError, UploadTooLargeError, ValidationError
from kizuna.federation.errors import UnsafeAddressError
from kizuna.server.context import services_key
from kizuna.services.accounts import ProfileUpdate
from kizuna.storage.models import Account, CustomEmoji, InboxActivity, Post
from tests.fakes.images import GIF, JPEG, WEBP, pixels, png
from tests.fakes.peers import FakePeer, json_reply, person
from tests.integration.conftest import ClientFactory
from tests.integration.lab import Instance, Network
from tests.integration.receive import receive
from tests.integration.web import Client, csrf_token, log_in, make_user

PAT = "https://peer.test/users/pat"


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


async def _rows(services: Services) -> list[CustomEmoji]:
    async with services.db.begin() as session:
        found = await session.scalars(select(CustomEmoji).order_by(CustomEmoji.shortcode))
        return list(found.all())


async def _alice(services: Services) -> Account:
    await make_user(services, "alice")
    users = await services.accounts.list_users()
    return next(u.account for u in users if u.account.username == "alice")


# --- uploads ---------------------------------------------------------------------------------


async def test_upload__png_gif_webp_then_stored_and_listed(
    services: Services, config: Config
) -> None:
    for code, data in (("blob", png()), ("party_gif", GIF), ("fox9", WEBP)):
        await services.custom_emoji.upload(code, data, category="Blobs")

    listed = await services.custom_emoji.list_local()
    assert [e.shortcode for e in listed] == ["blob", "fox9", "party_gif"]
    for emoji, ext, data in zip(listed, ("png", "webp", "gif"), (png(), WEBP, GIF), strict=True):
        assert emoji.domain == ""
        assert emoji.category == "Blobs"
        assert emoji.image_path is not None
        assert emoji.image_path.startswith(f"emoji/{emoji.shortcode}-")
        assert emoji.image_path.endswith(f".{ext}")
        # Re-encoded (kizuna.services.images): the same picture, not the same bytes.
        assert pixels((config.media_dir / emoji.image_path).read_bytes()) == pixels(data)


@pytest.mark.parametrize(
    ("shortcode", "data", "error", "message"),
    [
        ("photo", JPEG, ValidationError, "the image must be PNG, GIF or WebP"),
        ("svg", b"<svg onload=alert(1)>", ValidationError, "the image must be PNG, GIF or WebP"),
        ("huge", png(256 * 1024), UploadTooLargeError, "a custom emoji is at most 256 KB"),
        ("empty", b"", ValidationError, "choose an image file"),
        ("a", png(), ValidationError, "2 to 64 letters"),
        ("with-dash", png(), ValidationError, "2 to 64 letters"),
        ("ねこ", png(), ValidationError, "2 to 64 letters"),
        ("x" * 65, png(), ValidationError, "2 to 64 letters"),
        ("Search", png(), ValidationError, "is reserved"),  # GET /emoji/search is a page
    ],
)
async def test_upload__refused_with_message_and_nothing_written(
    services: Services,
    config: Config,
    shortcode: str,
    data: bytes,
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=message):
        await services.custom_emoji.upload(shortcode, data)

    assert await _rows(services) == []
    assert _files(config.media_dir) == []


async def test_upload__just_under_the_cap_is_taken(services: Services) -> None:
    data = png()
    data += b"\x00" * (256 * 1024 - len(data))
    emoji = await services.custom_emoji.upload("max", data)
    assert emoji.shortcode == "max"


@pytest.mark.parametrize("again", ["blob", "BLOB", ":blob:"])
async def test_upload__duplicate_shortcode_refused_first_kept(
    services: Services, config: Config, again: str
) -> None:
    first = await services.custom_emoji.upload("blob", png())

    with pytest.raises(ValidationError, match="exists already"):
        await services.custom_emoji.upload(again, GIF)

    assert [(e.id, e.shortcode) for e in await _rows(services)] == [(first.id, "blob")]
    assert _files(config.media_dir) == [first.image_path]


async def test_delete__row_and_file_gone(services: Services, config: Config) -> None:
    emoji = await services.custom_emoji.upload("blob", png())
    await services.custom_emoji.delete(emoji.id)

    assert await _rows(services) == []
    assert _files(config.media_dir) == []
    with pytest.raises(NotFoundError):
        await services.custom_emoji.delete(emoji.id)


async def test_search__shortcode_or_category_wildcards_literal_hidden_skipped(
    services: Services,
) -> None:
    await services.custom_emoji.upload("blob_cat", png(), category="Blobs")
    await services.custom_emoji.upload("fox", png(), category="Blobs")
    await services.custom_emoji.upload("catblob", png())
    await services.custom_emoji.upload("hidden_blob", png())
    async with services.db.begin() as session:
        await session.execute(
            update(CustomEmoji)
            .where(CustomEmoji.shortcode == "hidden_blob")
            .values(visible_in_picker=False)
        )

    async def codes(text: str) -> list[str]:
        return [e.shortcode for e in await services.custom_emoji.search(text)]

    assert await codes("BLOB") == ["blob_cat", "catblob", "fox"]  # prefix first
    assert await codes(":blob") == ["blob_cat", "catblob", "fox"]
    assert await codes("_") == ["blob_cat"]  # "_" is not LIKE's any-character
    assert await codes("%") == []
    assert await codes("") == ["catblob", "blob_cat", "fox"]  # by category, then shortcode


# --- posts -----------------------------------------------------------------------------------


async def test_post_with_emoji__image_here_tags_for_peers_never_instance_only(
    services: Services,
) -> None:
    alice = await _alice(services)
    blob = await services.custom_emoji.upload("blob", png())
    secret = await services.custom_emoji.upload("secret", GIF, local_only=True)

    post = await services.posts.create(alice, "hi :blob: :secret: :nope: https://x.test/:blob:")

    assert (
        f'<img class="emoji" src="/media/{blob.image_path}" alt=":blob:" title=":blob:"'
        ' draggable="false">' in post.content_html
    )
    assert f'src="/media/{secret.image_path}" alt=":secret:"' in post.content_html
    assert ":nope:" in post.content_html
    assert post.content_html.count("<img") == 2
    for doc in (
        await services.documents.note("alice", post.id),
        (await services.documents.note("alice", post.id, activity=True))["object"],
    ):
        emoji_tags = [t for t in doc["tag"] if t["type"] == "Emoji"]
        assert emoji_tags == [
            {
                "id": "http://kizuna.test/emoji/blob",
                "type": "Emoji",
                "name": ":blob:",
                "icon": {
                    "type": "Image",
                    "mediaType": "image/png",
                    "url": f"http://kizuna.test/media/{blob.image_path}",
                },
                "updated": blob.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        ]
        # Peers draw emoji from the tags: the content names them as text.
        assert "<img" not in doc["content"]
        assert ":blob: :secret: :nope:" in doc["content"]


async def test_edit__emoji_drawn_in_the_new_text(services: Services) -> None:
    alice = await _alice(services)
    await services.custom_emoji.upload("blob", png())
    post = await services.posts.create(alice, "plain")

    edited = await services.posts.edit(post.id, alice, "now :blob:")

    assert 'alt=":blob:"' in edited.content_html
    doc = await services.documents.note("alice", post.id)
    assert [t["name"] for t in doc["tag"] if t["type"] == "Emoji"] == [":blob:"]


# --- web -------------------------------------------------------------------------------------


def _app_services(client: Client) -> Services:
    """The running app's own services (its in-memory emoji list is the one pages use)."""
    return client.app[services_key]


async def test_get_emoji__activitypub_document_and_image_served(
    make_client: ClientFactory,
) -> None:
    client = await make_client()
    svc = _app_services(client)
    blob = await svc.custom_emoji.upload("blob", png())
    await svc.custom_emoji.upload("secret", GIF, local_only=True)

    response = await client.get("/emoji/blob", headers={"Accept": "application/activity+json"})
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/activity+json")
    doc = await response.json(content_type=None)
    assert doc["@context"][0] == "https://www.w3.org/ns/activitystreams"
    assert doc["@context"][1]["Emoji"] == "toot:Emoji"
    assert doc["id"] == "http://kizuna.test/emoji/blob"
    assert doc["type"] == "Emoji"
    assert doc["name"] == ":blob:"
    assert doc["icon"]["url"] == f"http://kizuna.test/media/{blob.image_path}"
    image = await client.get(f"/media/{blob.image_path}")
    assert image.status == 200
    assert image.headers["Content-Type"] == "image/png"
    assert pixels(await image.read()) == pixels(png())
    for missing in ("/emoji/secret", "/emoji/nope"):  # instance-only: never described
        answer = await client.get(missing, headers={"Accept": "application/activity+json"})
        assert answer.status == 404


async def _upload_form(
    client: Client, shortcode: str, data: bytes, **fields: str
) -> aiohttp.ClientResponse:
    form = aiohttp.FormData()
    form.add_field("csrf_token", await csrf_token(client, "/"))
    form.add_field("shortcode", shortcode)
    for name, value in fields.items():
        form.add_field(name, value)
    form.add_field("image", data, filename="e.png", content_type="image/png")
    return await client.post("/admin/emoji", data=form, allow_redirects=False)


async def test_admin_emoji__needs_admin(make_client: ClientFactory, services: Services) -> None:
    visitor, member = await make_client(), await make_client()
    await log_in(member, await make_user(services, "member"))

    assert (await visitor.get("/admin/emoji", allow_redirects=False)).status == 303
    assert (await member.get("/admin/emoji")).status == 403
    assert (await _upload_form(member, "blob", png())).status == 403
    assert await _rows(services) == []


async def test_admin_emoji__upload_list_refuse_delete(
    make_client: ClientFactory, services: Services, config: Config
) -> None:
    admin = await make_client()
    await log_in(admin, await make_user(services, "boss", role="admin"))
    assert 'href="/admin/emoji"' in await (await admin.get("/admin")).text()

    response = await _upload_form(admin, "blob", png(), category="Blobs", local_only="on")
    assert response.status == 303
    (emoji,) = await _rows(services)
    assert (emoji.shortcode, emoji.category, emoji.local_only) == ("blob", "Blobs", True)
    page = await (await admin.get("/admin/emoji")).text()
    assert f'<img class="emoji" src="/media/{emoji.image_path}" alt=":blob:"' in page
    assert "Only on this server" in page

    refused = await _upload_form(admin, "photo", JPEG)
    assert refused.status == 422
    assert "the image must be PNG, GIF or WebP" in await refused.text()

    token = await csrf_token(admin, "/admin/emoji")
    deleted = await admin.post(
        f"/admin/emoji/{emoji.id}/delete", data={"csrf_token": token}, allow_redirects=False
    )
    assert deleted.status == 303
    assert await _rows(services) == []
    assert _files(config.media_dir) == []


async def test_display_name__our_emoji_drawn_on_the_profile(
    make_client: ClientFactory, services: Services
) -> None:
    client = await make_client()
    svc = _app_services(client)
    blob = await svc.custom_emoji.upload("blob", png())
    alice = await _alice(services)
    await services.accounts.update_profile(alice.id, ProfileUpdate(display_name=":blob: <Alice>"))

    page = await (await client.get("/@alice")).text()

    assert (
        f'<h1 id="profile-name"><img class="emoji" src="/media/{blob.image_path}" alt=":blob:"'
        ' title=":blob:" draggable="false"> &lt;Alice&gt;</h1>'
    ) in page


# --- other servers' emoji ------------------------------------------------------------------


def _image(data: bytes, content_type: str = "image/png") -> Any:
    return lambda request: web.Response(body=data, content_type=content_type)


async def _peer(network: Network) -> tuple[Instance, FakePeer]:
    a = await network.start("a.test")
    peer = FakePeer("peer.test")
    await network.serve(peer.domain, peer.app)
    doc = person(PAT, "pat")
    peer.on("/users/pat", lambda request: json_reply(doc))
    await a.services.remote_accounts.resolve_url(PAT)
    return a, peer


def _emoji_tag(shortcode: str, url: str) -> dict[str, Any]:
    return {
        "id": f"https://peer.test/emojis/{shortcode}",
        "type": "Emoji",
        "name": f":{shortcode}:",
        "icon": {"type": "Image", "mediaType": "image/png", "url": url},
    }


def _create(note_id: str, content: str, tags: list[dict[str, Any]]) -> dict[str, Any]:
    note = {
        "id": note_id,
        "type": "Note",
        "attributedTo": PAT,
        "content": content,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [f"{PAT}/followers"],
        "published": "2026-01-01T00:00:00Z",
        "tag": tags,
    }
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{note_id}/activity",
        "type": "Create",
        "actor": PAT,
        "object": note,
    }


async def test_remote_note__emoji_cached_bad_ones_refused_post_kept(network: Network) -> None:
    a, peer = await _peer(network)
    peer.on("/e/blob.png", _image(png()))
    peer.on("/e/big.png", _image(png(300 * 1024)))
    peer.on("/e/page.png", _image(b"<html><script>alert(1)</script></html>", "text/html"))
    peer.on("/e/unused.png", _image(png()))
    note_id = "https://peer.test/notes/1"
    create = _create(
        note_id,
        '<p>hi :blob: :big: :page: :nope: <a href="https://peer.test/:blob:">:blob:</a></p>',
        [
            _emoji_tag("blob", peer.url("/e/blob.png")),
            _emoji_tag("big", peer.url("/e/big.png")),
            _emoji_tag("page", peer.url("/e/page.png")),
            _emoji_tag("unused", peer.url("/e/unused.png")),
        ],
    )

    rows = await receive(a.services, create)

    (row,) = [r for r in rows if r.activity_id == create["id"]]
    assert isinstance(row, InboxActivity)
    assert row.processed_at is not None
    assert row.error is None
    async with a.services.db.begin() as session:
        post = await session.scalar(select(Post).where(Post.uri == note_id))
    assert post is not None
    img = (
        '<img class="emoji" src="/media/emoji/peer.test/blob.png" alt=":blob:" title=":blob:"'
        ' draggable="false">'
    )
    assert post.content_html == (
        f'<p>hi {img} :big: :page: :nope: <a href="https://peer.test/:blob:"'
        f' rel="nofollow noopener noreferrer" target="_blank">{img}</a></p>'
    )
    media = a.services.config.media_dir
    assert _files(media) == ["emoji/peer.test/blob.png"]
    assert pixels((media / "emoji/peer.test/blob.png").read_bytes()) == pixels(png())
    (emoji,) = await _rows(a.services)
    assert (emoji.shortcode, emoji.domain, emoji.remote_url) == (
        "blob",
        "peer.test",
        "https://peer.test/e/blob.png",
    )
    assert "/e/unused.png" not in peer.requests  # not in the content: not fetched
    served = await a.browser.get("/media/emoji/peer.test/blob.png")
    assert served.status == 200
    assert served.headers["Content-Type"] == "image/png"
    assert "immutable" not in served.headers["Cache-Control"]


async def test_remote__fetched_once_again_when_url_changes(network: Network) -> None:
    a, peer = await _peer(network)
    peer.on("/e/v1.png", _image(png()))
    peer.on("/e/v2.jpg", _image(JPEG, "image/jpeg"))
    emoji_service = a.services.custom_emoji

    for _ in range(2):
        async with a.services.db.begin() as session:
            first = await emoji_service.remote(session, "blob", "peer.test", peer.url("/e/v1.png"))
    async with a.services.db.begin() as session:
        second = await emoji_service.remote(
            session, "blob", "PEER.test", peer.url("/e/v2.jpg"), "https://peer.test/emojis/1"
        )

    assert peer.requests.count("/e/v1.png") == 1
    assert peer.requests.count("/e/v2.jpg") == 1
    assert first.id == second.id
    (row,) = await _rows(a.services)
    assert row.remote_url == "https://peer.test/e/v2.jpg"
    assert row.uri == "https://peer.test/emojis/1"
    assert row.image_path == "emoji/peer.test/blob.jpg"  # JPEG is fine from others
    # The old kind's file stays: posts stored with it still show it.
    assert _files(a.services.config.media_dir) == [
        "emoji/peer.test/blob.jpg",
        "emoji/peer.test/blob.png",
    ]


async def test_remote__private_address_refused_before_any_fetch(services: Services) -> None:
    assert services.config.allow_private_addresses is False
    for url in ("https://127.0.0.1/e.png", "http://peer.test/e.png"):
        async with services.db.begin() as session:
            with pytest.raises(UnsafeAddressError):
                await services.custom_emoji.remote(session, "blob", "peer.test", url)
    assert await _rows(services) == []


async def test_post_with_emoji_then_drawn_on_the_follower_server(network: Network) -> None:
    a = await network.start("a.test")
    b = await network.start("b.test")
    alice = await _alice(a.services)
    await make_user(b.services, "bob")
    bob = next(u.account for u in await b.services.accounts.list_users())
    blob = await a.services.custom_emoji.upload("blob", png())
    await a.services.custom_emoji.upload("secret", GIF, local_only=True)
    await b.services.remote_accounts.resolve("@alice@a.test")
    await b.services.follows.follow(bob, "alice", "a.test")
    await network.drain()

    post = await a.services.posts.create(alice, "from a :blob: :secret:")
    await network.drain()

    async with b.services.db.begin() as session:
        copy = await session.scalar(select(Post).where(Post.uri == post.uri))
    assert copy is not None
    assert copy.content_html == (
        '<p>from a <img class="emoji" src="/media/emoji/a.test/blob.png" alt=":blob:"'
        ' title=":blob:" draggable="false"> :secret:</p>'
    )
    cached = b.services.config.media_dir / "emoji/a.test/blob.png"
    assert cached.read_bytes() == (a.services.config.media_dir / str(blob.image_path)).read_bytes()
    assert [(e.shortcode, e.domain, e.uri) for e in await _rows(b.services)] == [
        ("blob", "a.test", "https://a.test/emoji/blob")
    ]
