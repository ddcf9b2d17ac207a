"""The integer ranges of the reference's C types, as msgspec constraints on wire fields.

A request field declared ``U64`` accepts what a ``uint64_t`` holds (0 … 2^64−1), ``U32`` what a
``uint32_t`` (or an ``uint`` enum) holds, and so on; a value outside its type never reaches a
service and is answered with 6017 (``ERR_INVALID_PARAMETERS``) by the codec.
"""

from __future__ import annotations

from types import UnionType
from typing import Annotated, Any, Final, Union, get_args, get_origin, get_type_hints

from msgspec import Meta

U64_MAX: Final = (1 << 64) - 1
I64_MAX: Final = (1 << 63) - 1
U32_MAX: Final = (1 << 32) - 1

_U64_META: Final = Meta(ge=0, description="uint64_t")
U64 = Annotated[int, _U64_META]
"""``uint64_t``. msgspec bounds stop at int64, so the upper bound is checked after decoding by
``check_u64`` (structs with such fields derive from ``models.Req``)."""
U32 = Annotated[int, Meta(ge=0, le=U32_MAX)]
"""``uint32_t`` and the reference's ``uint`` enums."""
Pos = Annotated[int, Meta(ge=0, le=I64_MAX)]
"""A non-negative value opentim itself assigns and stores as is (a clock position, a time)."""


def clamp_time(time: int) -> int:
    """A time (``uint64`` in the reference) as a signed 64-bit column holds it: no stored time
    is above 2^63−1, so a larger bound means the same as it."""
    return min(time, I64_MAX)


def clamp_seq(seq: int) -> int:
    """A message seq (``uint64`` in the reference) as a store can look it up.

    opentim's seqs are gap-free from 1 and stored in signed 64-bit columns, so no message has a
    seq above 2^63−1: asking for one names nothing, and a larger bound means the same as it.
    """
    return min(seq, I64_MAX)


def _has_u64(hint: Any) -> bool:
    origin = get_origin(hint)
    args = get_args(hint)
    if origin is Annotated:
        return any(m is _U64_META for m in args[1:]) or _has_u64(args[0])
    if origin in (list, Union, UnionType):
        return any(_has_u64(a) for a in args)
    return False


_u64_fields: dict[type, tuple[str, ...]] = {}


def u64_fields(cls: type) -> tuple[str, ...]:
    """The fields of ``cls`` that hold uint64 values (alone or in a list)."""
    found = _u64_fields.get(cls)
    if found is None:
        hints = get_type_hints(cls, include_extras=True)
        found = _u64_fields[cls] = tuple(n for n, h in hints.items() if _has_u64(h))
    return found


def check_u64(obj: Any) -> None:
    """Refuse a decoded struct whose uint64 fields hold more than 64 bits.

    Raises:
        ValueError: which msgspec reports as a validation error (6017 on the wire).
    """
    for name in u64_fields(type(obj)):
        value = getattr(obj, name)
        for item in value if isinstance(value, list) else (value,):
            if item is not None and item > U64_MAX:
                raise ValueError(f"`{name}` is above 2^64-1")
