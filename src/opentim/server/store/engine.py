"""The seam between the repositories (written once) and the two engines (mechanics only).

A repository turns a call into operations (``sql.Op``) and hands them to its engine: ``read``
runs one on a reading connection, ``write`` queues one into the engine's next writing
transaction (group commit) and resolves once it is durable, ``append`` queues a message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from .base import Appended, NewMessage
from .sql import Op
from .writes import WriteTx

T = TypeVar("T")


class Engine(Protocol):
    member_cache: dict[str, dict[str, int]] | None
    """Group members kept in memory (one node owns the database), or None (read every time)."""

    async def read(self, op: Callable[[], Op[T]], *, snapshot: bool = False) -> T:
        """Run ``op`` on a reading connection; with ``snapshot``, in one consistent snapshot."""
        ...

    async def write(self, op: Callable[[WriteTx], Op[T]]) -> T:
        """Run ``op`` in the next writing transaction; its answer once committed."""
        ...

    def append(self, msg: NewMessage, server_time: int) -> Awaitable[Appended]:
        """Queue ``msg`` now (seqs follow call order); the awaitable resolves once durable."""
        ...
