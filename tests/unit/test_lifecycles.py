"""The queue rows' lifecycles (kizuna.storage.lifecycles) and the state columns' type."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import product

import pytest
from sqlalchemy.dialects import sqlite

from kizuna.storage.lifecycles import (
    DELIVERY,
    INBOX,
    IllegalTransitionError,
    InboxState,
    inbox_state,
)
from kizuna.storage.models import InboxActivity, StrEnumType
from kizuna.storage.states import DeliveryState, Severity

D, R = DeliveryState, InboxState
DELIVERY_MOVES = {(D.PENDING, after) for after in D}
INBOX_MOVES = {
    (R.QUEUED, R.LEASED),
    (R.LEASED, R.PROCESSED),
    (R.LEASED, R.REFUSED),
    (R.LEASED, R.QUEUED),
    (R.LEASED, R.LEASED),
}


@pytest.mark.parametrize(("before", "after"), sorted(product(D, D)))
def test_delivery__only_a_pending_row_moves(before: DeliveryState, after: DeliveryState) -> None:
    if (before, after) in DELIVERY_MOVES:
        assert DELIVERY.move(before, after) is after
    else:
        with pytest.raises(IllegalTransitionError, match=f"from {before} to {after}"):
            DELIVERY.move(before, after)


@pytest.mark.parametrize(("before", "after"), sorted(product(R, R)))
def test_inbox__moves_as_declared(before: InboxState, after: InboxState) -> None:
    if (before, after) in INBOX_MOVES:
        assert INBOX.move(before, after) is after
    else:
        with pytest.raises(IllegalTransitionError):
            INBOX.move(before, after)


def test_sources__the_states_an_update_may_take_rows_from() -> None:
    assert DELIVERY.sources(D.FAILED) == (D.PENDING,)
    assert DELIVERY.sources(D.PENDING) == (D.PENDING,)
    assert INBOX.sources(R.LEASED) == (R.QUEUED, R.LEASED)


def _row(**columns: object) -> InboxActivity:
    return InboxActivity(activity_id="https://b.test/a/1", **columns)


@pytest.mark.parametrize(
    ("columns", "state"),
    [
        ({}, R.QUEUED),
        ({"error": "PeerUnavailableError: b.test did not answer in time"}, R.QUEUED),
        ({"lease_owner": "0123abcd"}, R.LEASED),
        ({"processed_at": datetime(2025, 1, 1, tzinfo=UTC)}, R.PROCESSED),
        ({"processed_at": datetime(2025, 1, 1, tzinfo=UTC), "error": "refused"}, R.REFUSED),
    ],
)
def test_inbox_state__read_from_the_row(columns: dict[str, object], state: InboxState) -> None:
    assert inbox_state(_row(**columns)) is state


def test_enum_string__hands_back_members_and_refuses_strangers() -> None:
    column = StrEnumType(Severity, 16)
    dialect = sqlite.dialect()

    assert column.process_bind_param(Severity.SILENCE, dialect) == "silence"
    assert column.process_bind_param("noop", dialect) == "noop"
    assert column.process_result_value("suspend", dialect) is Severity.SUSPEND
    assert column.process_result_value(None, dialect) is None
    with pytest.raises(ValueError, match="'block'"):
        column.process_bind_param("block", dialect)
