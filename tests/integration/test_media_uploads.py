"""Every way an image enters the server decodes and re-encodes it: profile avatars and
headers, community icons and banners, our custom emoji and other servers' (cached). A
decompression bomb is refused with its size on the form (or, from a peer, never cached),
location data and polyglot payloads never reach the disk, big pictures are shrunk."""

from __future__ import annotations

import io
from pathlib import Path

import aiohttp
import pytest
from PIL import Image
from sqlalchemy import select

from kizuna.config import Config
from kizuna.container import Services
from kizuna.errors import ValidationError
from kizuna.services.accounts import ProfileUpdate
from kizuna.storage import repo
from kizuna.storage.models import CustomEmoji, Post
from tests.fakes import images
from tests.integration.conftest import ClientFactory
from tests.integration.lab import Network
from tests.integration.receive import receive
from tests.integration.test_custom_emoji import _create, _emoji_tag, _image, _peer
from tests.integration.web import Client, csrf_token, log_in, make_user, stored_account

BOMB_SIZE = "the image is 20000×20000 pixels; the limit is 33.2 megapixels"


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _stored(config: Config, relative: str | None) -> Image.Image:
    assert relative is not None
    image = Image.open(io.BytesIO((Path(config.media_dir) / relative).read_bytes()))
    image.load()
    return image


async def _post_form(
    client: Client, path: str, form_page: str, files: dict[str, bytes], **fields: str
) -> aiohttp.ClientResponse:
    form = aiohttp.FormData()
    form.add_field("csrf_token", await csrf_token(client, form_page))
    for name, value in fields.items():
        form.add_field(name, value)
    for name, data in files.items():
        form.add_field(name, data, filename=f"{name}.png", content_type="image/png")
    return await client.post(path, data=form, allow_redirects=False)


# --- profiles ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "data", "message"),
    [
        ("avatar", images.bomb_png(), BOMB_SIZE),
        ("header", images.bomb_png(), BOMB_SIZE),
        ("avatar", images.BROKEN_PNG, "the file is not a valid PNG image"),
    ],
    ids=["bomb-avatar", "bomb-header", "broken-avatar"],
)
async def test_profile__bomb_or_broken_image_refused_on_the_form_nothing_stored(
    make_client: ClientFactory,
    services: Services,
    config: Config,
    field: str,
    data: bytes,
    message: str,
) -> None:
    client = await make_client()
    await log_in(client, await make_user(services, "alice"))

    response = await _post_form(
        client,
        "/settings/profile",
        "/settings/profile",
        {field: data},
        display_name="Alice",
        note="",
    )

    assert response.status == 422
    assert message in await response.text()
    alice = await stored_account(services, "alice")
    assert alice.avatar_path is None
    assert alice.display_name == ""
    assert _files(Path(config.media_dir)) == []


async def test_profile__photo_stored_without_location_and_shrunk(
    services: Services, config: Config
) -> None:
    await make_user(services, "alice")
    alice = await stored_account(services, "alice")
    photo = images.picture("JPEG", (1600, 1200), exif=images.gps_exif())
    header = images.picture("PNG", (3000, 1000))

    await services.accounts.update_profile(alice.id, ProfileUpdate(avatar=photo, header=header))

    alice = await stored_account(services, "alice")
    avatar = _stored(config, alice.avatar_path)
    assert avatar.format == "JPEG"
    assert avatar.size == (400, 300)
    assert avatar.getexif().get_ifd(images.GPS_IFD) == {}
    assert "exif" not in avatar.info
    assert _stored(config, alice.header_path).size == (1500, 500)


async def test_profile__polyglot_avatar_served_as_a_clean_image(
    make_client: ClientFactory, services: Services
) -> None:
    client = await make_client()
    await log_in(client, await make_user(services, "alice"))

    response = await _post_form(
        client,
        "/settings/profile",
        "/settings/profile",
        {"avatar": images.polyglot_gif()},
        display_name="",
        note="",
    )

    assert response.status == 303
    alice = await stored_account(services, "alice")
    served = await client.get(f"/media/{alice.avatar_path}")
    body = await served.read()
    assert served.headers["Content-Type"] == "image/gif"
    assert b"<script" not in body
    assert b"<html" not in body
    assert images.pixels(body) == images.pixels(images.polyglot_gif())


# --- communities ---------------------------------------------------------------------------


async def test_community__bomb_icon_or_banner_refused_on_the_form(
    make_client: ClientFactory, services: Services, config: Config
) -> None:
    client = await make_client()
    await log_in(client, await make_user(services, "alice"))

    for field in ("icon", "banner"):
        response = await _post_form(
            client,
            "/communities/new",
            "/communities/new",
            {field: images.bomb_png()},
            slug="gardening",
            name="Gardening",
        )
        assert response.status == 422
        page = await response.text()
        assert BOMB_SIZE in page
        assert 'value="gardening"' in page  # the form keeps what was typed

    async with services.db.begin() as session:
        assert await repo.get_account_by_username(session, "gardening", "") is None
    assert _files(Path(config.media_dir)) == []


async def test_community__icon_and_banner_cleaned_on_create_and_on_edit(
    make_client: ClientFactory, services: Services, config: Config
) -> None:
    client = await make_client()
    await log_in(client, await make_user(services, "alice"))
    photo = images.picture("JPEG", (800, 800), exif=images.gps_exif())

    created = await _post_form(
        client,
        "/communities/new",
        "/communities/new",
        {"icon": photo, "banner": images.picture("PNG", (3000, 3000))},
        slug="gardening",
        name="Gardening",
    )
    assert created.status == 303, await created.text()

    group = await stored_account(services, "gardening")
    icon = _stored(config, group.avatar_path)
    assert icon.size == (400, 400)
    assert icon.getexif().get_ifd(images.GPS_IFD) == {}
    assert _stored(config, group.header_path).size == (866, 866)

    edited = await _post_form(
        client,
        "/c/gardening/settings",
        "/c/gardening/settings",
        {"banner": images.polyglot_gif()},
        name="Gardening",
    )
    assert edited.status == 303, await edited.text()
    group = await stored_account(services, "gardening")
    assert group.header_path is not None
    assert b"<script" not in (Path(config.media_dir) / group.header_path).read_bytes()
    refused = await _post_form(
        client,
        "/c/gardening/settings",
        "/c/gardening/settings",
        {"icon": images.bomb_png()},
        name="Gardening",
    )
    assert refused.status == 422
    assert BOMB_SIZE in await refused.text()


# --- custom emoji --------------------------------------------------------------------------


async def test_emoji_upload__bomb_refused_on_the_admin_form(
    make_client: ClientFactory, services: Services, config: Config
) -> None:
    admin = await make_client()
    await log_in(admin, await make_user(services, "boss", role="admin"))

    response = await _post_form(
        admin, "/admin/emoji", "/admin/emoji", {"image": images.bomb_png()}, shortcode="boom"
    )

    assert response.status == 422
    assert BOMB_SIZE in await response.text()
    assert await services.custom_emoji.list_local() == []
    assert _files(Path(config.media_dir)) == []


async def test_emoji_upload__animation_kept_polyglot_and_big_cleaned(
    services: Services, config: Config
) -> None:
    party = await services.custom_emoji.upload("party", images.animation("GIF"))
    fox = await services.custom_emoji.upload("fox", images.animation("WEBP"))
    big = await services.custom_emoji.upload("big", images.picture("PNG", (1024, 1024)))
    sneaky = await services.custom_emoji.upload("sneaky", images.polyglot_gif())

    for emoji, kind in ((party, "GIF"), (fox, "WEBP")):
        stored = (Path(config.media_dir) / str(emoji.image_path)).read_bytes()
        assert images.pixels(stored) == images.pixels(images.animation(kind))
    assert _stored(config, big.image_path).size == (256, 256)
    assert b"<script" not in (Path(config.media_dir) / str(sneaky.image_path)).read_bytes()
    with pytest.raises(ValidationError, match=r"^the file is not a valid PNG image$") as info:
        await services.custom_emoji.upload("broken", images.BROKEN_PNG)
    assert info.value.field == "image"


async def test_remote_emoji__bomb_not_cached_post_kept_polyglot_cleaned(
    network: Network,
) -> None:
    a, peer = await _peer(network)
    peer.on("/e/boom.png", _image(images.bomb_png()))
    peer.on("/e/sneaky.gif", _image(images.polyglot_gif(), "image/gif"))
    peer.on("/e/photo.jpg", _image(images.picture("JPEG", (600, 600), exif=images.gps_exif())))
    note_id = "https://peer.test/notes/boom"
    create = _create(
        note_id,
        "<p>:boom: :sneaky: :photo:</p>",
        [
            _emoji_tag("boom", peer.url("/e/boom.png")),
            _emoji_tag("sneaky", peer.url("/e/sneaky.gif")),
            _emoji_tag("photo", peer.url("/e/photo.jpg")),
        ],
    )

    await receive(a.services, create)

    assert "/e/boom.png" in peer.requests  # fetched, decoded far enough to refuse
    media = Path(a.services.config.media_dir)
    assert _files(media) == ["emoji/peer.test/photo.jpg", "emoji/peer.test/sneaky.gif"]
    async with a.services.db.begin() as session:
        post = await session.scalar(select(Post).where(Post.uri == note_id))
        cached = (await session.scalars(select(CustomEmoji.shortcode))).all()
    assert post is not None
    assert post.content_html.startswith("<p>:boom: <img")  # kept as text, the post kept
    assert sorted(cached) == ["photo", "sneaky"]
    assert b"<script" not in (media / "emoji/peer.test/sneaky.gif").read_bytes()
    photo = _stored(a.services.config, "emoji/peer.test/photo.jpg")
    assert photo.size == (256, 256)
    assert photo.getexif().get_ifd(images.GPS_IFD) == {}
