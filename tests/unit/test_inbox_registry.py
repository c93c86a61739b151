"""The inbox dispatch table: every accepted type is routed or deliberately dropped, each
route's parser yields what its handler takes, and what nothing acts on is ignored."""

from __future__ import annotations

import types
import typing
from typing import Any, cast

import pytest

from kizuna.activitypub.objects import Unknown
from kizuna.activitypub.vocab import ACTIVITY_TYPES
from kizuna.inbox.context import Context
from kizuna.inbox.handlers.registry import ACKNOWLEDGED_ONLY, ROUTES, Route, dispatch

A = "https://remote.test/users/ana"
OURS = "https://kizuna.test/users/bob"
NOTE = {
    "id": "https://remote.test/notes/1",
    "type": "Note",
    "attributedTo": A,
    "content": "<p>hi</p>",
    "to": ["https://www.w3.org/ns/activitystreams#Public"],
}
FOLLOW = {"id": f"{A}#follows/1", "type": "Follow", "actor": OURS, "object": A}

# One well-formed document of each routed type, as a peer sends it.
SAMPLES: dict[str, dict[str, Any]] = {
    "Follow": {"id": f"{A}#follows/1", "type": "Follow", "actor": A, "object": OURS},
    "Accept": {"id": f"{A}#accepts/1", "type": "Accept", "actor": A, "object": FOLLOW},
    "Reject": {"id": f"{A}#rejects/1", "type": "Reject", "actor": A, "object": FOLLOW},
    "Undo": {"id": f"{A}#undo/1", "type": "Undo", "actor": A, "object": f"{A}#likes/1"},
    "Create": {"id": f"{A}/notes/1/activity", "type": "Create", "actor": A, "object": NOTE},
    "Update": {"id": f"{A}/notes/1#updates/1", "type": "Update", "actor": A, "object": NOTE},
    "Delete": {"id": f"{A}/notes/1#delete", "type": "Delete", "actor": A, "object": NOTE["id"]},
    "Announce": {"id": f"{A}/boosts/1", "type": "Announce", "actor": A, "object": OURS + "/s/1"},
    "Like": {"id": f"{A}#likes/1", "type": "Like", "actor": A, "object": OURS + "/s/1"},
    "EmojiReact": {
        "id": f"{A}#reacts/1",
        "type": "EmojiReact",
        "actor": A,
        "object": OURS + "/s/1",
        "content": "🎉",
    },
    "Block": {"id": f"{A}#blocks/1", "type": "Block", "actor": A, "object": OURS},
    "Move": {"id": f"{A}#moves/1", "type": "Move", "actor": A, "object": A, "target": OURS},
    "Flag": {"id": f"{A}#flags/1", "type": "Flag", "actor": A, "object": [OURS]},
}


def _takes(route: Route[Any]) -> type | types.UnionType:
    """The activity type the route's handler declares (its second parameter)."""
    hints = typing.get_type_hints(route.handle)
    hints.pop("return")
    _ctx, activity = hints.values()
    return cast(type | types.UnionType, activity)


def test_every_accepted_type__is_routed_or_acknowledged_only() -> None:
    assert set(ROUTES).isdisjoint(ACKNOWLEDGED_ONLY)
    assert set(ROUTES) | ACKNOWLEDGED_ONLY == ACTIVITY_TYPES


@pytest.mark.parametrize("kind", sorted(ROUTES))
def test_route__parser_gives_what_its_handler_takes(kind: str) -> None:
    route = ROUTES[kind]

    activity = route.parse(SAMPLES[kind])

    assert not isinstance(activity, Unknown)
    assert isinstance(activity, _takes(route))


# Never touched: a dispatch that ignores its document must not reach for the session.
UNTOUCHABLE = cast(Context, object())


@pytest.mark.parametrize("kind", ["View", "Add", "Offer", "Wave"])
async def test_dispatch__type_nothing_acts_on__is_ignored(kind: str) -> None:
    doc = {"id": f"{A}#x/1", "type": kind, "actor": A, "object": OURS}

    assert await dispatch(UNTOUCHABLE, doc) is False


async def test_dispatch__routed_type_in_a_form_we_do_not_act_on__is_ignored() -> None:
    accept_invite = {
        "id": f"{A}#accepts/2",
        "type": "Accept",
        "actor": A,
        "object": {"id": f"{OURS}/invites/1", "type": "Invite"},
    }

    assert await dispatch(UNTOUCHABLE, accept_invite) is False
