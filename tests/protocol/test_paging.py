"""Paging by bytes (protocol/paging.py)."""

from __future__ import annotations

import msgspec

from opentim.protocol import Profile
from opentim.protocol.limits import MAX_FRAME_BYTES, MAX_SERVER_FRAME_BYTES, PAGE_BYTES
from opentim.protocol.paging import chunks, fitting

_encoder = msgspec.json.Encoder()


def sized(n: int, nick_bytes: int) -> Profile:
    return Profile(user_id=f"u{n}", nick="x" * nick_bytes)


def test_fitting_counts_what_fits_and_never_zero() -> None:
    assert fitting([]) == 0
    items = [sized(i, 100) for i in range(10)]
    one = len(_encoder.encode(items[0])) + 1
    assert fitting(items, one * 10) == 10
    assert fitting(items, one * 10 - 1) == 9
    assert fitting(items, one * 3) == 3
    assert fitting(items, 1) == 1, "an item over the budget goes alone"


def test_chunks_cover_every_item_in_order_within_the_budget() -> None:
    items = [sized(i, 40_000 if i % 3 else 300_000) for i in range(12)]
    parts = chunks(items)
    assert [p.user_id for part in parts for p in part] == [p.user_id for p in items]
    for part in parts:
        size = sum(len(_encoder.encode(p)) + 1 for p in part)
        assert size <= PAGE_BYTES or len(part) == 1
    assert chunks([]) == []


def test_the_limits_leave_room_for_envelopes_and_legacy_rows() -> None:
    assert PAGE_BYTES + 32 * 1024 <= MAX_FRAME_BYTES <= MAX_SERVER_FRAME_BYTES
