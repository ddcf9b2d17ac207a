"""The reactions' part of the Store contract (issue 12), on every engine: order, limits,
refusals that change nothing, reads of many messages."""

from __future__ import annotations

import asyncio

from opentim.protocol import ErrorCode
from opentim.protocol.rules.reactions import MAX_REACTIONS_PER_MSG, MAX_USERS_PER_REACTION
from opentim.server.store.base import Store

CH = "c2c:a:b"


async def test_reactions_keep_first_appearance_and_user_order(store: Store) -> None:
    r = store.reactions
    assert await r.add(CH, 1, "like", "b") == (None, ["b"])
    assert await r.add(CH, 1, "smile", "a") == (None, ["a"])
    assert await r.add(CH, 1, "like", "a") == (None, ["b", "a"])
    assert await r.add(CH, 2, "like", "a") == (None, ["a"])
    found = await r.of_messages(CH, [1, 2, 3])
    assert found == {1: {"like": ["b", "a"], "smile": ["a"]}, 2: {"like": ["a"]}}
    assert list(found[1]) == ["like", "smile"]
    assert await r.users(CH, 1, "like") == ["b", "a"]
    assert await r.of_messages("c2c:a:c", [1]) == {}


async def test_refusals_change_nothing(store: Store) -> None:
    r = store.reactions
    await r.add(CH, 1, "like", "a")
    assert await r.add(CH, 1, "like", "a") == (
        ErrorCode.ERR_SVR_MSG_REACTION_ALREADY_CONTAIN_USER,
        ["a"],
    )
    assert (await r.remove(CH, 1, "nope", "a"))[0] == ErrorCode.ERR_SVR_MSG_REACTION_NOT_EXISTS
    assert (await r.remove(CH, 1, "like", "b"))[0] == (
        ErrorCode.ERR_SVR_MSG_REACTION_NOT_CONTAIN_USER
    )
    assert await r.remove(CH, 1, "like", "a") == (None, [])
    assert await r.of_messages(CH, [1]) == {}
    # Removed and added again: it is last now.
    await r.add(CH, 1, "x", "a")
    await r.add(CH, 1, "like", "a")
    assert list((await r.of_messages(CH, [1]))[1]) == ["x", "like"]


async def test_limits_per_message_and_per_reaction(store: Store) -> None:
    r = store.reactions
    for i in range(MAX_REACTIONS_PER_MSG):
        assert (await r.add(CH, 1, f"r{i}", "a"))[0] is None
    refusal, _ = await r.add(CH, 1, "one-more", "a")
    assert refusal == ErrorCode.ERR_SVR_MSG_REACTION_COUNT_LIMIT
    assert (await r.add(CH, 1, "r0", "b"))[0] is None  # an existing one still takes users
    for i in range(MAX_USERS_PER_REACTION - 2):
        assert (await r.add(CH, 1, "r0", f"u{i}"))[0] is None
    refusal, users = await r.add(CH, 1, "r0", "late")
    assert refusal == ErrorCode.ERR_SVR_MSG_REACTION_USER_COUNT_LIMIT
    assert len(users) == MAX_USERS_PER_REACTION


async def test_concurrent_adds_cannot_pass_the_limit_together(store: Store) -> None:
    r = store.reactions
    for i in range(MAX_REACTIONS_PER_MSG - 1):
        await r.add(CH, 1, f"r{i}", "a")
    outcomes = await asyncio.gather(*(r.add(CH, 1, f"new{i}", f"u{i}") for i in range(5)))
    assert sorted(o[0] is None for o in outcomes) == [False] * 4 + [True]
    assert len((await r.of_messages(CH, [1]))[1]) == MAX_REACTIONS_PER_MSG
