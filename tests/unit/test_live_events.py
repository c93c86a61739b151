"""Live hints: the NOTIFY payload codec, the broker's routing and bounds, SSE framing."""

from __future__ import annotations

import json

import pytest

from kizuna.realtime import sse
from kizuna.realtime.broker import Broker
from kizuna.realtime.events import MAX_PAYLOAD, LiveEvent, decode_batch, encode_batch


def post(post_id: int, author: int, **more: int) -> LiveEvent:
    return LiveEvent(kind="post", id=post_id, account_id=author, **more)


def test_payloads_round_trip_and_stay_under_the_notify_limit() -> None:
    events = [post(10**15 + i, 7, community_id=3, in_reply_to_id=i + 1) for i in range(500)]
    payloads = encode_batch(events)
    assert len(payloads) > 1
    assert all(len(p.encode()) <= MAX_PAYLOAD for p in payloads)
    assert [e for p in payloads for e in decode_batch(p)] == events


@pytest.mark.parametrize(
    "payload",
    ["", "not json", "{}", "[1, 2]", '[{"kind": "drop tables"}]', '[{"kind": "post", "id": "1"}]'],
)
def test_malformed_payloads_from_other_processes_are_skipped(payload: str) -> None:
    assert decode_batch(payload) == []


def test_good_events_survive_a_bad_neighbour() -> None:
    payload = json.dumps([{"kind": "post", "id": True}, {"kind": "notification", "account_id": 5}])
    assert decode_batch(payload) == [LiveEvent(kind="notification", account_id=5)]


def test_broker_routes_by_key_only() -> None:
    broker = Broker()
    home = broker.subscribe([("author", 1), ("notify", 9)])
    community = broker.subscribe([("community", 4)])
    thread = broker.subscribe([("reply_to", 100)])
    broker.dispatch([post(200, 1), post(201, 2, community_id=4), post(202, 3, in_reply_to_id=100)])
    broker.dispatch([LiveEvent(kind="notification", account_id=9)])
    assert [e.id for e in home.take()[0]] == [200, 0]
    assert [e.id for e in community.take()[0]] == [201]
    assert [e.id for e in thread.take()[0]] == [202]
    assert not home.ready.is_set()


def test_a_subscription_holds_a_bounded_number_of_hints_then_only_knows_it_lost_some() -> None:
    broker = Broker()
    slow = broker.subscribe([("author", 1)], limit=10)
    broker.dispatch(post(i, 1) for i in range(1000))
    events, lost = slow.take()
    assert len(events) == 10
    assert lost
    assert slow.take() == ([], False)


def test_replacing_keys_and_closing_leave_no_index_behind() -> None:
    broker = Broker()
    home = broker.subscribe([("author", 1), ("author", 2)])
    home.replace_keys("author", [2, 3])
    broker.dispatch([post(1, 1), post(2, 2), post(3, 3)])
    assert [e.id for e in home.take()[0]] == [2, 3]
    home.close()
    assert broker.open_subscriptions == 0
    assert not broker._index  # nothing keeps a closed stream's keys


def test_queue_kinds_reach_their_handlers() -> None:
    woken: list[str] = []
    broker = Broker(wake={"delivery": lambda: woken.append("delivery")})
    broker.dispatch([LiveEvent(kind="delivery"), LiveEvent(kind="inbox")])
    assert woken == ["delivery"]


def test_sse_framing() -> None:
    framed = sse.event("post", {"html": "a\nb"}, event_id=42).decode()
    assert framed == 'id: 42\nevent: post\ndata: {"html":"a\\nb"}\n\n'
    assert sse.comment("ping") == b": ping\n\n"


@pytest.mark.parametrize("raw", ["abc", "-1", "1.5", " 12 x", "9" * 20, "١٢٣", str(2**63)])
def test_last_event_id_garbage_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="Last-Event-ID"):
        sse.parse_event_id(raw)


def test_last_event_id_absent_or_ours() -> None:
    assert sse.parse_event_id(None) is None
    assert sse.parse_event_id("") is None
    assert sse.parse_event_id(" 123 ") == 123
