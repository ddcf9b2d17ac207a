"""Message extensions in the Store contract (issue 12), on every engine: versions, conflicts,
the per-message limit, deletes; two users setting one key at once: the first wins."""

from __future__ import annotations

import asyncio

from opentim.protocol import ErrorCode
from opentim.protocol.rules.extensions import MAX_PER_MSG, Stored, Wanted
from opentim.server.store.base import Store

CH = "g:vote"


async def test_versions_conflicts_and_deletes(store: Store) -> None:
    x = store.extensions
    codes, after = await x.set(CH, 1, [Wanted("a", "1", 0), Wanted("b", "2", 0)])
    assert codes == {"a": None, "b": None}
    assert after == {"a": Stored("1", 1), "b": Stored("2", 1)}
    codes, after = await x.set(CH, 1, [Wanted("a", "stale", 0), Wanted("b", "3", 1)])
    assert codes == {"a": ErrorCode.ERR_SVR_MSG_EXTENSION_CONFLICT, "b": None}
    assert await x.get(CH, 1) == {"a": Stored("1", 1), "b": Stored("3", 2)}
    assert await x.get(CH, 2) == {}
    codes, before = await x.delete(CH, 1, ["a", "zz"])
    assert codes == {"a": None, "zz": ErrorCode.ERR_SVR_MSG_EXTENSION_NOT_EXIST}
    assert before["a"] == Stored("1", 1)
    assert await x.get(CH, 1) == {"b": Stored("3", 2)}
    codes, _ = await x.delete(CH, 1, None)
    assert codes == {"b": None}
    assert await x.get(CH, 1) == {}
    # A deleted key starts again from version 0.
    assert (await x.set(CH, 1, [Wanted("a", "again", 0)]))[1]["a"] == Stored("again", 1)


async def test_at_most_300_per_message(store: Store) -> None:
    x = store.extensions
    for start in range(0, MAX_PER_MSG, 20):
        batch = [Wanted(f"k{i}", "v", 0) for i in range(start, start + 20)]
        assert set((await x.set(CH, 1, batch))[0].values()) == {None}
    codes, _ = await x.set(CH, 1, [Wanted("one-more", "v", 0), Wanted("k0", "new", 1)])
    assert codes == {"one-more": ErrorCode.ERR_INVALID_PARAMETERS, "k0": None}


async def test_the_first_of_concurrent_sets_of_a_key_wins(store: Store) -> None:
    x = store.extensions
    outcomes = await asyncio.gather(*(x.set(CH, 1, [Wanted("seat", f"u{i}", 0)]) for i in range(5)))
    codes = [o[0]["seat"] for o in outcomes]
    assert codes.count(None) == 1
    assert set(codes) == {None, ErrorCode.ERR_SVR_MSG_EXTENSION_CONFLICT}
    winner = codes.index(None)
    assert await x.get(CH, 1) == {"seat": Stored(f"u{winner}", 1)}
