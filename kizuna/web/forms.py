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


def form_file(form: Form, name: str) -> bytes | None:
    value = form.get(name)
    if value is None or isinstance(value, str):
        return None  # no file chosen: browsers send an empty string part
    if isinstance(value, bytes | bytearray):
        return bytes(value) or None
    data = value.file.read()
    return data or None
