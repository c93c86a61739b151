"""Database.on_commit: what live pages and workers are told, and when."""

from __future__ import annotations

import pytest

from kizuna.storage.engine import Database
from kizuna.storage.models import InstanceSetting


class Boom(Exception):
    pass


async def test_told_after_commit_with_what_was_added_savepoints_included(db: Database) -> None:
    told: list[list[str]] = []
    stop = db.on_commit(lambda objs: told.append([o.key for o in objs]))  # type: ignore[attr-defined]
    async with db.begin() as session:
        session.add(InstanceSetting(key="kept", value="1"))
        await session.flush()
        with pytest.raises(Boom):  # noqa: PT012 (the savepoint is what is under test)
            async with session.begin_nested():
                session.add(InstanceSetting(key="rolled-back-savepoint", value="2"))
                await session.flush()
                raise Boom
        assert told == []  # nothing before the commit
        session.add(InstanceSetting(key="after", value="3"))
    # A savepoint's rollback must not drop the rest; its own rows may come as a stale hint.
    assert told == [["kept", "rolled-back-savepoint", "after"]]

    with pytest.raises(Boom):  # noqa: PT012 (the rolled-back transaction is under test)
        async with db.begin() as session:
            session.add(InstanceSetting(key="never", value="4"))
            await session.flush()
            raise Boom
    async with db.begin() as session:
        pass  # nothing added: nobody is told
    assert told == [["kept", "rolled-back-savepoint", "after"]]
    stop()
    async with db.begin() as session:
        session.add(InstanceSetting(key="unheard", value="5"))
    assert len(told) == 1


async def test_a_released_savepoint_tells_nobody_before_the_outer_commit(db: Database) -> None:
    # A savepoint released (repo.add_follow's) is not a commit: others cannot see its rows
    # yet, and a stream told now would read them as absent and never hear of them again.
    told: list[list[str]] = []
    db.on_commit(lambda objs: told.append([o.key for o in objs]))  # type: ignore[attr-defined]
    async with db.begin() as session:
        async with session.begin_nested():
            session.add(InstanceSetting(key="in-savepoint", value="1"))
        assert told == []
        session.add(InstanceSetting(key="after", value="2"))
        await session.flush()
        assert told == []
    assert told == [["in-savepoint", "after"]]


async def test_a_failing_listener_does_not_fail_the_commit(db: Database) -> None:
    def broken(_objs: object) -> None:
        raise RuntimeError("listener bug")

    db.on_commit(broken)
    async with db.begin() as session:
        session.add(InstanceSetting(key="stored", value="1"))
    async with db.begin() as session:
        assert await session.get(InstanceSetting, "stored") is not None
