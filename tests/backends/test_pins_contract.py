"""Pinned group messages in the Store contract (issue 12), on every engine: order, the limit
and refusals that change nothing, concurrent pins."""

from __future__ import annotations

import asyncio

from opentim.protocol import ErrorCode, MemberRole
from opentim.protocol.rules.pins import MAX_PINNED
from opentim.server.store.base import Store

ADMIN, MEMBER = int(MemberRole.ADMIN), int(MemberRole.NORMAL)


async def test_pins_in_order_and_refusals_change_nothing(store: Store) -> None:
    p = store.pins
    assert await p.pin("g", 5, "adm", ADMIN, True, 100) is None
    assert await p.pin("g", 2, "adm", ADMIN, True, 101) is None
    assert await p.pinned("g") == [5, 2]
    assert await p.pin("g", 2, "adm", ADMIN, True, 102) == (
        ErrorCode.ERR_SVR_GROUP_MESSAGE_ALREADY_PINNED
    )
    assert await p.pin("g", 3, "m", MEMBER, True, 103) == ErrorCode.ERR_SVR_GROUP_PERMISSION_DENY
    assert await p.pin("g", 3, "adm", ADMIN, False, 104) == (
        ErrorCode.ERR_SVR_GROUP_INVALID_PARAMETERS
    )
    assert await p.pinned("g") == [5, 2]
    assert await p.pin("g", 5, "adm", ADMIN, False, 105) is None
    assert await p.pinned("g") == [2]
    assert await p.pinned("other") == []


async def test_concurrent_pins_cannot_pass_the_limit(store: Store) -> None:
    p = store.pins
    for seq in range(1, MAX_PINNED):
        await p.pin("g", seq, "adm", ADMIN, True, seq)
    outcomes = await asyncio.gather(*(p.pin("g", 100 + i, "a", ADMIN, True, 50) for i in range(4)))
    assert sorted(o is None for o in outcomes) == [False, False, False, True]
    assert {o for o in outcomes if o} == {ErrorCode.ERR_SVR_GROUP_PINNED_MESSAGE_COUNT_LIMIT}
    assert len(await p.pinned("g")) == MAX_PINNED
