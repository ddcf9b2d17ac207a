"""The database identity and the sync tokens that carry it, on every store engine: a token from
another history (another database, no identity, a position past the clock) starts a full pass."""

from __future__ import annotations

from typing import Any

import msgspec

from opentim.protocol import encode_token, parse_token
from opentim.protocol.cursors import FRESH
from opentim.server.bus.local import LocalBus
from opentim.server.services.conversations import ConversationService
from opentim.server.store.base import Store

from .test_store_contract import Factory, c2c, factory, store  # noqa: F401 (fixtures)


async def test_database_identity_is_made_once_kept_and_rotated(factory: Factory) -> None:  # noqa: F811
    s = factory()
    await s.open()
    first = s.db_id
    await s.close()
    assert 0 < first < 2**63
    s = factory()
    await s.open()
    assert s.db_id == first
    rotated = await s.rotate_database_id()
    await s.close()
    assert rotated not in (0, first)
    s = factory()
    await s.open()
    assert s.db_id == rotated
    await s.close()


async def full_sync(svc: ConversationService, user: str, cursor: str = "") -> tuple[Any, ...]:
    """Pages until the last; the conv ids seen, the final cursor, and whether it was reset."""
    seen: list[str] = []
    reset_any = False
    for _ in range(10):
        convs, cursor, more, _, reset = await svc.sync(user, cursor, 100)
        seen += [c.conv_id for c in convs]
        reset_any |= reset
        if not more:
            break
    return seen, cursor, reset_any


async def test_sync_refuses_a_token_of_another_history_and_starts_over(store: Store) -> None:  # noqa: F811
    svc = ConversationService(store, LocalBus(), users=None, clock=lambda: 0.0)  # type: ignore[arg-type]
    await store.messages.append(c2c("alice", "bob", "m1"), 100)
    seen, cursor, reset = await full_sync(svc, "bob")
    assert (seen, reset) == (["alice"], False)
    token = parse_token(cursor)
    assert token.db == store.db_id
    assert await full_sync(svc, "bob", cursor) == ([], cursor, False)  # the same history
    clock = await store.clock_now()
    assert token.pos <= clock
    other_histories = {
        "before identities": msgspec.structs.replace(token, db=0),
        "another database": msgspec.structs.replace(token, db=token.db + 1),
        "beyond the clock": msgspec.structs.replace(token, pos=clock + 1000),
    }
    for why, bad in other_histories.items():
        seen, after, reset = await full_sync(svc, "bob", encode_token(bad))
        assert (seen, reset) == (["alice"], True), why
        assert parse_token(after).db == store.db_id
        assert parse_token(after).phase != FRESH
