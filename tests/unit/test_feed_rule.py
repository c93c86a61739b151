"""The mixi2 feed rule's arithmetic: where community posts go into a home page."""

from __future__ import annotations

import pytest

from kizuna.services.timelines import (
    COMMUNITY_FEED_CHOICES,
    DEFAULT_COMMUNITY_FEED_EVERY,
    community_slots,
    interleave,
)


def test_defaults__every_5_and_the_form_choices() -> None:
    assert DEFAULT_COMMUNITY_FEED_EVERY == 5
    assert COMMUNITY_FEED_CHOICES == (0, 3, 5, 10, 20)


@pytest.mark.parametrize(
    ("main_count", "every", "slots"),
    [
        (40, 5, 8),
        (40, 3, 13),
        (40, 20, 2),
        (12, 5, 2),  # a short last page: floor(12 / 5)
        (4, 5, 0),  # fewer items than N: nothing inserted
        (0, 5, 0),  # an empty home stays empty: inserted, never a replacement
        (0, 1, 0),
        (40, 0, 0),  # off
        (40, -3, 0),  # nonsense is off too
    ],
)
def test_community_slots(main_count: int, every: int, slots: int) -> None:
    assert community_slots(main_count, every) == slots


def test_interleave__one_after_every_n_main_items() -> None:
    main = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert interleave(main, ["a", "b"], 5) == [1, 2, 3, 4, 5, "a", 6, 7, 8, 9, 10, "b", 11]


def test_interleave__in_the_order_given_and_never_twice() -> None:
    merged = interleave(list(range(9)), ["newest", "older", "oldest"], 3)
    assert merged == [0, 1, 2, "newest", 3, 4, 5, "older", 6, 7, 8, "oldest"]


def test_interleave__fewer_inserts_than_slots_leaves_the_rest_chronological() -> None:
    assert interleave([1, 2, 3, 4, 5, 6], ["a"], 2) == [1, 2, "a", 3, 4, 5, 6]
    assert interleave([1, 2, 3], [], 1) == [1, 2, 3]


def test_interleave__off_or_empty_main() -> None:
    assert interleave([1, 2, 3], ["a"], 0) == [1, 2, 3]
    assert interleave([], ["a"], 1) == []


def test_interleave__n_of_1_alternates() -> None:
    assert interleave([1, 2, 3], ["a", "b", "c"], 1) == [1, "a", 2, "b", 3, "c"]
