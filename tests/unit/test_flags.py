"""The Flag codec: Mastodon's outgoing shape, lenient parsing of what peers send."""

from __future__ import annotations

import pytest

from kizuna.activitypub.errors import InvalidActivityError
from kizuna.activitypub.flags import MAX_FLAG_COMMENT, flag_json, parse_flag

ACCOUNT = "https://bad.example/users/tobi"
STATUS = "https://bad.example/users/tobi/statuses/1"


def test_flag_json__mastodon_shape() -> None:
    # The GoToSocial notes quote this Mastodon payload (docs/federation/reports).
    assert flag_json(
        id="https://example.org/341e866f",
        actor="https://example.org/actor",
        content="misinfo",
        objects=[ACCOUNT, STATUS],
    ) == {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "https://example.org/341e866f",
        "type": "Flag",
        "actor": "https://example.org/actor",
        "content": "misinfo",
        "object": [ACCOUNT, STATUS],
    }
    with pytest.raises(ValueError, match="names at least"):
        flag_json(
            id="https://example.org/1", actor="https://example.org/actor", content="", objects=[]
        )


def test_parse_flag__bare_object_long_content_and_junk() -> None:
    doc = {
        "id": "https://example.org/f",
        "type": "Flag",
        "actor": {"id": "https://example.org/actor"},
        "object": ACCOUNT,
        "content": "x" * (MAX_FLAG_COMMENT + 10),
    }
    flag = parse_flag(doc)
    assert (flag.actor, flag.objects, len(flag.content)) == (
        "https://example.org/actor",
        (ACCOUNT,),
        MAX_FLAG_COMMENT,
    )
    mixed = parse_flag({**doc, "object": [ACCOUNT, 42, "javascript:x", {"id": STATUS}]})
    assert mixed.objects == (ACCOUNT, STATUS)
    assert parse_flag({**doc, "content": None}).content == ""


@pytest.mark.parametrize(
    "change",
    [{"object": []}, {"object": "not a url"}, {"actor": None}, {"id": ""}],
)
def test_parse_flag__refuses_what_names_nothing(change: dict[str, object]) -> None:
    doc = {"id": "https://example.org/f", "actor": "https://example.org/a", "object": ACCOUNT}
    with pytest.raises(InvalidActivityError):
        parse_flag({**doc, **change})
