"""Reading submitted form fields defensively: wrong types and oversize values are 400s."""

from __future__ import annotations

from aiohttp import web
from multidict import MultiDictProxy

Form = MultiDictProxy[str | bytes | bytearray | web.FileField]


def form_text(form: Form, name: str, limit: int) -> str:
    value = form.get(name, "")
    if not isinstance(value, str):
        raise web.HTTPBadRequest(text=f"the field {name!r} must be text")
    if len(value) > limit:
        raise web.HTTPBadRequest(text=f"the field {name!r} is too long")
    return value


# The most of a refused text sent back in its form. Longer texts are cut here, not refused:
# whoever wrote 6,000 characters without JavaScript keeps the first 5,000 and the reason.
ECHO_LIMIT = 5000


def form_draft(form: Form, name: str) -> str:
    """Text someone wrote (a post, a reply): any length, since the service says what is too
    long and the form comes back with `echo(text)` in it. The request cap bounds it."""
    value = form.get(name, "")
    if not isinstance(value, str):
        raise web.HTTPBadRequest(text=f"the field {name!r} must be text")
    return value


def echo(text: str) -> str:
    """What of a refused text goes back into its form."""
    return text[:ECHO_LIMIT]


def form_file(form: Form, name: str) -> bytes | None:
    value = form.get(name)
    if value is None or isinstance(value, str):
        return None  # no file chosen: browsers send an empty string part
    if isinstance(value, bytes | bytearray):
        return bytes(value) or None
    with value.file:  # aiohttp's spooled temporary file: closed here, not left to the GC
        data = value.file.read()
    return data or None
