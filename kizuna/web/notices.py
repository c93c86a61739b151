"""Messages shown on the page a form sends people back to, named by a code in its query
(`?notice=reactions`): a fixed table, so a link cannot put words of its own on our pages."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from yarl import URL

from kizuna.config import Config
from kizuna.services.media import file_size

NOTICES: dict[str, Callable[[Config], str]] = {
    "reactions": lambda config: (
        f"You can give up to {config.reactions_per_post} different reactions to a post; "
        "take one back to give another."
    ),
    "upload": lambda config: (
        f"That upload was too large to read; an image may be at most "
        f"{file_size(config.max_upload_bytes)}. Nothing was changed."
    ),
}


def notice_for(request: web.Request, config: Config) -> str | None:
    """The message a redirect asked this page to show, if any."""
    make = NOTICES.get(request.query.get("notice", ""))
    return make(config) if make is not None else None


def with_notice(path: str, code: str, *, anchor: str = "") -> str:
    """`path` (a path with its query, from `back_to`) showing notice `code`, scrolled to
    `anchor`."""
    assert code in NOTICES, code
    return str(URL(path, encoded=True).update_query(notice=code).with_fragment(anchor or None))
