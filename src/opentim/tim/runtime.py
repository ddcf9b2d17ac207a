"""SdkThread: one daemon thread running one asyncio event loop, where TIM calls do their work and
every callback fires (DESIGN §6; the aiosqlite pattern, reversed: the app's threads hand work to
the loop's thread, and results come back on it).

This is the one boundary where SDK failures become callback codes (STYLE §2.6), in
``callback_error``: an ``OpenTimError`` → ``cb(code, desc, "", user_data)``; any other exception →
``ERR_SDK_INTERNAL_ERROR`` (7012), logged with its traceback, and the callback still fires.

Order between calls of one instance, so that a later call sees what an earlier one did (as the
reference SDK's local database gives): a ``READ`` (local list, counts, history) waits for every
earlier ``CHANGE`` still running; a ``SESSION`` call (login, logout) waits for everything earlier,
and every later call waits for it. Changes do not wait for each other, so sends pipeline. Waiting
is done with ``await`` on the loop, never by blocking a thread, so callbacks may call any TIM
function, from the SDK thread too.
"""

from __future__ import annotations

import asyncio
import collections
import enum
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from opentim.protocol import ErrorCode, OpenTimError

log = logging.getLogger(__name__)

TIMCommCallback = Callable[[int, str, str, Any], object]
"""``cb(code, desc, json_params, user_data)``."""

Work = Callable[[], Awaitable[str]]
"""A call's work on the SDK loop; it returns the callback's JSON (``""`` when there is none)."""

UNINIT_CODE = int(ErrorCode.ERR_SDK_NOT_INITIALIZED)
UNINIT_DESC = "TIMUninit was called"
"""What a call still running at ``TIMUninit`` gets in its callback."""

STOP_TIMEOUT = 10.0
"""How long ``TIMUninit`` waits for the SDK thread to finish its shutdown."""


def callback_error(exc: BaseException) -> tuple[int, str]:
    """The code and description a call's callback gets when its work raised ``exc``: any
    opentim error's own (``SdkError``, a protocol error…); ``ERR_SDK_NOT_INITIALIZED`` for a call
    cancelled by ``TIMUninit``; ``ERR_SDK_INTERNAL_ERROR`` for anything else (a bug: the caller
    logs its traceback)."""
    if isinstance(exc, OpenTimError):
        return int(exc.code), exc.desc
    if isinstance(exc, asyncio.CancelledError):
        return UNINIT_CODE, UNINIT_DESC
    return int(ErrorCode.ERR_SDK_INTERNAL_ERROR), "internal error"


class CallKind(enum.Enum):
    """How a call is ordered against the calls made before it (see the module docstring)."""

    READ = enum.auto()
    CHANGE = enum.auto()
    SESSION = enum.auto()


def deliver(fn: Callable[..., object], *args: object) -> None:
    """Call an app callback; an exception it raises is logged, never propagated into the SDK."""
    try:
        fn(*args)
    except Exception:
        log.exception("TIM callback %r raised", fn)


class SdkThread:
    """The SDK thread of one ``TIMSDK`` instance, from ``TIMInit`` to ``TIMUninit``.

    Args:
        name: the thread's name.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run_loop, name=name, daemon=True)
        self._pending: dict[asyncio.Task[None], CallKind] = {}
        self._session: asyncio.Task[None] | None = None
        self._stopping = False

    # --- lifecycle (any thread) -------------------------------------------------------------
    def start(self) -> None:
        """Start the thread and return once its loop runs."""
        ready = threading.Event()
        self._loop.call_soon(ready.set)
        self._thread.start()
        ready.wait()

    def stop(self, last: Callable[[], Awaitable[None]]) -> None:
        """Cancel running calls (their callbacks fire with ``ERR_SDK_NOT_INITIALIZED``), run
        ``last``, and stop the loop. Waits for the thread to end, unless called on it."""
        self._loop.call_soon_threadsafe(self._begin_shutdown, last)
        if not self.on_thread():
            self._thread.join(STOP_TIMEOUT)
            if self._thread.is_alive():
                log.warning("SDK thread %s did not stop within %.0f s", self.name, STOP_TIMEOUT)

    def on_thread(self) -> bool:
        """Whether the caller runs on this SDK thread."""
        return threading.get_ident() == self._thread.ident

    def loop_time(self) -> float:
        """The SDK loop's clock (``loop.time()``), readable from any thread."""
        return self._loop.time()

    @property
    def thread_id(self) -> int | None:
        """The SDK thread's identifier (``threading.get_ident()`` on it)."""
        return self._thread.ident

    # --- calls (any thread) -----------------------------------------------------------------
    def submit(
        self, kind: CallKind, work: Work, cb: TIMCommCallback | None, user_data: object
    ) -> None:
        """Run ``work`` on the SDK loop, then ``cb(code, desc, json, user_data)`` on this thread.

        Never runs anything before returning, whichever thread calls it. With ``cb`` None (calls
        without a callback, such as ``TIMConvSetDraft``), failures are logged.
        """
        self._loop.call_soon_threadsafe(self._start_call, kind, work, cb, user_data)

    def call_soon(self, fn: Callable[..., object], *args: object) -> None:
        """Run ``fn(*args)`` on the SDK thread, soon."""
        self._loop.call_soon_threadsafe(fn, *args)

    # --- on the loop ------------------------------------------------------------------------
    def _run_loop(self) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            try:
                rest = [t for t in asyncio.all_tasks(loop) if not t.done()]
                for task in rest:
                    task.cancel()
                if rest:
                    loop.run_until_complete(asyncio.gather(*rest, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                asyncio.set_event_loop(None)
                loop.close()

    def _start_call(
        self, kind: CallKind, work: Work, cb: TIMCommCallback | None, user_data: object
    ) -> None:
        # Runs in submission order (call_soon_threadsafe is FIFO), so "earlier" is well defined.
        if self._stopping:
            if cb is not None:
                deliver(cb, UNINIT_CODE, UNINIT_DESC, "", user_data)
            return
        if kind is CallKind.SESSION:
            deps = list(self._pending)
        else:
            deps = [] if self._session is None or self._session.done() else [self._session]
            if kind is CallKind.READ:
                deps += [t for t, k in self._pending.items() if k is CallKind.CHANGE]
        task = self._loop.create_task(self._run_call(deps, work, cb, user_data))
        self._pending[task] = kind
        task.add_done_callback(self._forget)
        if kind is CallKind.SESSION:
            self._session = task

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._pending.pop(task, None)

    async def _run_call(
        self,
        deps: list[asyncio.Task[None]],
        work: Work,
        cb: TIMCommCallback | None,
        user_data: object,
    ) -> None:
        try:
            if deps:
                await asyncio.wait(deps)
            result = await work()
        except asyncio.CancelledError as exc:
            if cb is not None:
                deliver(cb, *callback_error(exc), "", user_data)
            raise
        except OpenTimError as exc:
            if cb is None:
                log.warning("TIM call failed: %s", exc)
                return
            deliver(cb, *callback_error(exc), "", user_data)
        except Exception as exc:
            log.exception("TIM call failed with an internal error")
            if cb is not None:
                deliver(cb, *callback_error(exc), "", user_data)
        else:
            if cb is not None:
                deliver(cb, int(ErrorCode.ERR_SUCC), "", result, user_data)

    def _begin_shutdown(self, last: Callable[[], Awaitable[None]]) -> None:
        self._stopping = True
        self._loop.create_task(self._shutdown(last))

    async def _shutdown(self, last: Callable[[], Awaitable[None]]) -> None:
        try:
            calls = list(self._pending)
            for task in calls:
                task.cancel()
            if calls:
                await asyncio.gather(*calls, return_exceptions=True)
            await last()
        except Exception:
            log.exception("SDK shutdown failed")
        finally:
            self._loop.stop()


class EarlyThread:
    """Where callbacks of calls made before ``TIMInit`` come (``callExperimentalAPI``, which
    Tencent's wrappers call before it): a daemon thread of the process, delivering in order and
    never inside the call. It ends as soon as nothing is left to deliver (a host such as Mono
    waits at exit for every thread that ran its code) and starts again on the next call."""

    NAME = "opentim-early"

    def __init__(self) -> None:
        self._queue: collections.deque[tuple[Callable[..., object], tuple[object, ...]]] = (
            collections.deque()
        )
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def call_soon(self, fn: Callable[..., object], *args: object) -> None:
        """Run ``deliver(fn, *args)`` on the early thread, soon."""
        with self._lock:
            self._queue.append((fn, args))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.NAME, daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._thread = None
                    return
                fn, args = self._queue.popleft()
            deliver(fn, *args)


early_thread = EarlyThread()
"""The process's early thread."""
