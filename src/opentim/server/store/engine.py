"""The seam between the repositories (written once) and the two engines (mechanics only).

A repository turns a call into operations (``sql.Op``) and hands them to its engine: ``read``
runs one on a reading connection, ``write`` queues one into the engine's next writing
transaction (group commit) and resolves once it is durable, ``append`` queues a message.
``GroupCommit`` is the queue both engines put their writes in; each runs a batch its own way.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from .base import Appended, NewMessage, StoreError
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


Outcome = tuple[bool, Any]
"""A queued write's result: (True, its answer) or (False, the exception to raise)."""


@dataclass(slots=True)
class Queued:
    """One queued write: an append (``msg``) or an operation of the transaction (``op``)."""

    fut: asyncio.Future[Any]
    msg: NewMessage | None = None
    server_time: int = 0
    op: Callable[[WriteTx], Op[Any]] | None = None


BatchRunner = Callable[[list[Queued]], Awaitable[tuple[list[Outcome], list[Callable[[], None]]]]]
"""An engine's mechanics: run a batch as one transaction; each item's outcome, and the actions
to take once it committed."""


def _noop(tx: WriteTx) -> Op[None]:
    return None
    yield  # pragma: no cover


class GroupCommit:
    """The write queue both engines share (DESIGN §5a): whatever arrived while the previous
    batch was being committed goes into the next one; callers are answered after COMMIT (and
    after the batch's post-commit actions)."""

    def __init__(self, run_batch: BatchRunner, name: str) -> None:
        self._run_batch = run_batch
        self._name = name
        self._queue: list[Queued] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._writer(), name=self._name)

    async def stop(self) -> None:
        """Commit what is queued, then stop."""
        if self._task is None:
            return
        with contextlib.suppress(StoreError):
            await self.write(_noop)  # everything queued before it commits with it
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    def _submit(self, item: Queued) -> None:
        self._queue.append(item)
        self._wake.set()

    def append(self, msg: NewMessage, server_time: int) -> asyncio.Future[Appended]:
        """Queue ``msg`` now (seqs follow call order); the future resolves once durable."""
        fut: asyncio.Future[Appended] = asyncio.get_running_loop().create_future()
        self._submit(Queued(fut, msg=msg, server_time=server_time))
        return fut

    async def write(self, op: Callable[[WriteTx], Op[T]]) -> T:
        fut: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._submit(Queued(fut, op=op))
        return await fut

    async def _writer(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._queue = self._queue, []
            if not batch:
                continue
            outcomes, after = await self._run_batch(batch)
            for action in after:
                action()
            for item, (ok, answer) in zip(batch, outcomes, strict=True):
                if item.fut.done():
                    continue
                if ok:
                    item.fut.set_result(answer)
                else:
                    item.fut.set_exception(answer)
