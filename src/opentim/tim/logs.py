"""The SDK's log lines for ``TIMSetLogCallback``: opentim logs through Python's ``logging`` (the
``opentim`` logger and its children); a ``CallbackLogHandler`` on that logger hands each line at
or above the callback's level to the app's ``TIMLogCallback``, on the SDK thread.

Levels (TIMLogLevel ↔ logging): Verbose/Test below DEBUG, Debug = DEBUG, Info = INFO,
Warn = WARNING, Error = ERROR, Assert = CRITICAL, Off = nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from . import keys as k
from .runtime import SdkThread, deliver

LOGGER = "opentim"
"""The logger every line of opentim goes through."""

SDK_THREAD_PREFIX = "opentim-sdk-"
"""The names of SDK threads (``opentim-sdk-N``): a line logged on one belongs to its instance."""

_TO_PYTHON = {
    k.kTIMLog_Off: logging.CRITICAL + 10,
    k.kTIMLog_Test: logging.DEBUG - 5,
    k.kTIMLog_Verbose: logging.DEBUG - 5,
    k.kTIMLog_Debug: logging.DEBUG,
    k.kTIMLog_Info: logging.INFO,
    k.kTIMLog_Warn: logging.WARNING,
    k.kTIMLog_Error: logging.ERROR,
    k.kTIMLog_Assert: logging.CRITICAL,
}


def python_level(level: int) -> int:
    """The ``logging`` level of a TIMLogLevel."""
    return _TO_PYTHON[k.TIMLogLevel(level)]


def tim_level(levelno: int) -> int:
    """The TIMLogLevel of a ``logging`` level."""
    if levelno >= logging.CRITICAL:
        return int(k.kTIMLog_Assert)
    if levelno >= logging.ERROR:
        return int(k.kTIMLog_Error)
    if levelno >= logging.WARNING:
        return int(k.kTIMLog_Warn)
    if levelno >= logging.INFO:
        return int(k.kTIMLog_Info)
    if levelno >= logging.DEBUG:
        return int(k.kTIMLog_Debug)
    return int(k.kTIMLog_Verbose)


LogTarget = Callable[[], tuple[tuple[Callable[..., object], object] | None, SdkThread | None]]
"""Where a line goes: the registered ``(cb, user_data)`` and the instance's SDK thread."""


class CallbackLogHandler(logging.Handler):
    """Hands log lines to one instance's ``TIMLogCallback``: lines logged on its SDK thread, and
    lines logged on the app's threads (refusals …); not those of other instances' SDK threads.
    A line logged on another thread reaches the callback through the SDK thread; without one
    (before ``TIMInit``) it is not delivered."""

    def __init__(self, target: LogTarget) -> None:
        super().__init__()
        self._target = target
        self._inside = threading.local()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(self._inside, "active", False):
            return  # a line the callback itself caused (it raised): never loop
        registered, runtime = self._target()
        if registered is None or runtime is None:
            return
        thread = record.threadName or ""
        if thread.startswith(SDK_THREAD_PREFIX) and thread != runtime.name:
            return
        cb, user_data = registered
        text = self.format(record)
        level = tim_level(record.levelno)
        if runtime.on_thread():
            self._deliver(cb, level, text, user_data)
        else:
            try:
                runtime.call_soon(self._deliver, cb, level, text, user_data)
            except RuntimeError:  # the SDK thread stopped meanwhile
                return

    def _deliver(self, cb: Callable[..., object], *args: Any) -> None:
        self._inside.active = True
        try:
            deliver(cb, *args)
        finally:
            self._inside.active = False
