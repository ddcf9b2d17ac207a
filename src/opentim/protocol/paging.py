"""Answers paged by bytes as well as by count (DESIGN §7): no frame the server sends may exceed
what the SDK accepts, however large the items of a list are."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import msgspec

from .limits import PAGE_BYTES

_encoder = msgspec.json.Encoder()
T = TypeVar("T", bound=msgspec.Struct)


def fitting(items: Sequence[msgspec.Struct], budget: int = PAGE_BYTES) -> int:
    """How many items, from the start, fit in ``budget`` bytes of JSON.

    At least one when there is one: an item larger than the budget by itself (a row stored
    before the field limits existed) goes alone in its page, so it is still delivered.
    """
    used = 0
    for n, item in enumerate(items):
        used += len(_encoder.encode(item)) + 1
        if used > budget:
            return max(n, 1)
    return len(items)


def chunks(items: Sequence[T], budget: int = PAGE_BYTES) -> list[list[T]]:
    """``items`` cut into consecutive lists that each fit in ``budget`` bytes (for pushes)."""
    out: list[list[T]] = []
    rest = list(items)
    while rest:
        n = fitting(rest, budget)
        out.append(rest[:n])
        rest = rest[n:]
    return out
