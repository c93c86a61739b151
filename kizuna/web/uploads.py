"""Forms that take images: read up to a bounded multiple of the per-image limit, so that an
image that is too big (a phone photo is 3-12 MB) is refused by the form itself, which comes
back with everything else that was typed and says the limit (`MediaStore.check`).

Only for a logged-in user posting to one of these forms; every other request keeps the
application's cap (`client_max_size`). A body past even this cap is not read further: the
browser goes back to the form's page with a notice saying the limit."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from aiohttp import web

from kizuna.server.context import services, user_key
from kizuna.web.notices import with_notice

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Each upload form's path (its GET page has the same path), and how many images it takes.
UPLOAD_FORMS: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"/settings/profile"), 2),
    (re.compile(r"/communities/new"), 2),
    (re.compile(r"/c/[^/]+/settings"), 2),
    (re.compile(r"/admin/emoji"), 1),
)
READ_FACTOR = 4  # an image up to 4x the limit is read, to say how big it was
FORM_OVERHEAD = 64 * 1024  # the text fields and multipart headers


def images_taken(path: str) -> int:
    return next((n for pattern, n in UPLOAD_FORMS if pattern.fullmatch(path)), 0)


def upload_read_cap(max_upload_bytes: int, images: int) -> int:
    return images * max_upload_bytes * READ_FACTOR + FORM_OVERHEAD


@web.middleware
async def upload_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    images = images_taken(request.path) if request.method == "POST" else 0
    if not images:
        return await handler(request)
    logged_in = user_key in request
    if logged_in:
        cap = upload_read_cap(services(request).config.max_upload_bytes, images)
        request = request.clone(client_max_size=cap)
    try:
        return await handler(request)
    except web.HTTPRequestEntityTooLarge:
        if not logged_in:
            raise
        raise web.HTTPSeeOther(with_notice(request.path, "upload")) from None
    finally:
        await _close_files(request)


async def _close_files(request: web.Request) -> None:
    """Close the temporary files aiohttp spooled the form's files into, whether or not the
    handler read them (a refused request never does)."""
    if request.can_read_body:
        return  # the form was never read: nothing spooled, and nothing to read now
    for value in (await request.post()).values():
        if isinstance(value, web.FileField):
            value.file.close()
