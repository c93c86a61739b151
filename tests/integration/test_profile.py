"""Editing one's profile: names, bio, avatar upload with type and size checks."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import aiohttp

from kizuna.config import Config
from kizuna.container import Services
from kizuna.storage.models import Account
from tests.fakes.images import pixels
from tests.integration.conftest import ClientFactory
from tests.integration.web import Client, csrf_token, log_in, make_user


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xc2\x41\x3a")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


async def _save(
    client: Client, *, display_name: str, note: str, avatar: bytes | None = None
) -> aiohttp.ClientResponse:
    form = aiohttp.FormData()
    form.add_field("csrf_token", await csrf_token(client, "/settings/profile"))
    form.add_field("display_name", display_name)
    form.add_field("note", note)
    if avatar is not None:
        form.add_field("avatar", avatar, filename="me.png", content_type="image/png")
    return await client.post("/settings/profile", data=form, allow_redirects=False)


async def _account(services: Services, username: str) -> Account:
    users = await services.accounts.list_users()
    return next(u.account for u in users if u.account.username == username)


async def test_edit_profile_then_shown_escaped(
    make_client: ClientFactory, services: Services
) -> None:
    client = await make_client()
    await log_in(client, await make_user(services, "alice"))
    response = await _save(client, display_name="ありす <b>", note="東京在住\n\n<script>x</script>")
    assert response.status == 303
    page = await (await client.get("/@alice")).text()
    assert "ありす &lt;b&gt;" in page
    assert "<p>東京在住</p><p>&lt;script&gt;x&lt;/script&gt;</p>" in page


async def test_avatar_upload_then_served_with_image_type(
    make_client: ClientFactory, services: Services, config: Config
) -> None:
    client = await make_client()
    await log_in(client, await make_user(services, "alice"))
    assert (await _save(client, display_name="", note="", avatar=tiny_png())).status == 303
    account = await _account(services, "alice")
    assert account.avatar_path is not None
    assert account.avatar_path.endswith(".png")
    media = await client.get(f"/media/{account.avatar_path}")
    assert media.status == 200
    assert media.headers["Content-Type"] == "image/png"
    assert pixels(await media.read()) == pixels(tiny_png())  # re-encoded, same picture
    # A second upload replaces the file: the old one is removed from disk.
    old = Path(config.media_dir) / account.avatar_path
    assert (await _save(client, display_name="", note="", avatar=tiny_png())).status == 303
    assert not old.exists()


async def test_avatar__not_an_image_is_422_and_profile_unchanged(
    make_client: ClientFactory, services: Services
) -> None:
    client = await make_client()
    await log_in(client, await make_user(services, "alice"))
    response = await _save(client, display_name="new name", note="", avatar=b"<svg onload=x>")
    assert response.status == 422
    assert "must be PNG, JPEG, GIF or WebP" in await response.text()
    account = await _account(services, "alice")
    assert account.display_name == ""
    assert account.avatar_path is None


async def test_avatar__oversize_is_413_with_message(
    make_client: ClientFactory, services: Services, config: Config
) -> None:
    client = await make_client()
    await log_in(client, await make_user(services, "alice"))
    # Over the per-image limit but under the request cap: the service explains the limit.
    big = tiny_png() + b"\x00" * config.max_upload_bytes
    response = await _save(client, display_name="", note="", avatar=big)
    assert response.status == 413
    assert "the limit is 64 KB" in await response.text()
    # Far over what an upload form reads: aiohttp stops reading; back on the form, which says
    # so (tests/integration/test_ux_form_errors.py follows this with a real limit).
    huge = b"\x89PNG\r\n\x1a\n" + b"\x00" * (config.max_upload_bytes * 10)
    response = await _save(client, display_name="", note="", avatar=huge)
    assert response.status == 303
    assert "too large" in await (await client.get(response.headers["Location"])).text()
    assert (await _account(services, "alice")).avatar_path is None


async def test_profile__overlong_display_name_is_422(
    make_client: ClientFactory, services: Services
) -> None:
    client = await make_client()
    await log_in(client, await make_user(services, "alice"))
    response = await _save(client, display_name="x" * 31, note="")
    assert response.status == 422
    assert "at most 30 characters" in await response.text()


async def test_media__path_tricks_are_404(make_client: ClientFactory) -> None:
    client = await make_client()
    for path in ("/media/avatars/..%2F..%2Fkizuna.db", "/media/avatars/x.html", "/media/../x.png"):
        assert (await client.get(path)).status == 404
