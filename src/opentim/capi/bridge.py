"""The Python side of ``libImSDK``: each exported C function calls the same-named function of
``opentim.tim`` (its module-level default instance), converting arguments on the way in and
callback arguments on the way out.

This module runs inside the C program's process, in the interpreter the library embeds
(``build.py``). The rules it keeps (docs/capi.md):

- C strings are copied into Python ``str`` on entry (UTF-8; bytes that are not UTF-8 survive as
  surrogates, so the TIM layer refuses them with TIM_ERR_JSON / TIM_ERR_PARAM as it does for
  Python callers); ``NULL`` → ``None``.
- Callbacks run on the SDK thread. The ``char*`` arguments handed to a C callback are NUL-terminated
  UTF-8 buffers that stay alive until it returns, and no longer.
- ``user_data`` is the caller's pointer, handed back untouched.
- An exception never crosses into C and never returns as ``TIM_SUCC``: it is logged and the call
  returns ``TIM_ERR_PARAM`` (``RESULT_ON_ERROR``).
- Every function of the reference exists in ``opentim.tim``; those not real yet answer "not yet"
  there (``opentim.tim.notyet``), so a C app sees what a Python app sees.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import opentim.tim
from opentim.protocol import TIMResult

from . import reference as ref
from .build import PY_PREFIX
from .reference import Function

log = logging.getLogger(__name__)

RESULT_ON_ERROR = int(TIMResult.TIM_ERR_PARAM)
"""What an ``int`` function returns when Python raised while handling it."""

OUT_BUFFER_SIZE = 128
"""The size the reference requires of ``message_id_buffer`` / ``user_id_buffer`` (NUL included);
a longer id is cut to fit, always NUL-terminated."""

STRING = "const char*"
OUT_BUFFER = "char*"
USER_DATA = "const void*"

Ffi = Any
"""A ``cffi.FFI`` (cffi ships no type hints)."""


def c_string(ffi: Ffi, ptr: Any) -> str | None:
    """A copy of a C string: ``None`` for ``NULL``; non-UTF-8 bytes kept as surrogates."""
    if ptr == ffi.NULL:
        return None
    return str(ffi.string(ptr).decode("utf-8", "surrogateescape"))


class CCallback:
    """A C function pointer as a Python callable for the TIM layer.

    Two wrappers of the same pointer and typedef are equal, so ``TIMRemoveRecvNewMsgCallback``
    finds what ``TIMAddRecvNewMsgCallback`` added.
    """

    def __init__(self, ffi: Ffi, typedef: str, pointer: Any) -> None:
        self._ffi = ffi
        self._pointer = pointer
        self._key = (typedef, int(ffi.cast("uintptr_t", pointer)))
        self._strings = [p.ctype == STRING for p in ref.callbacks()[typedef].params]

    def __call__(self, *args: object) -> None:
        ffi = self._ffi
        c_args = []
        for is_string, arg in zip(self._strings, args, strict=True):
            if is_string:
                # Lives until this call returns: the C callback may read it, not keep it.
                text = "" if arg is None else str(arg)
                c_args.append(ffi.new("char[]", text.encode("utf-8", "surrogateescape")))
            else:
                c_args.append(arg)
        self._pointer(*c_args)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CCallback) and other._key == self._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __repr__(self) -> str:
        return f"<C callback {self._key[0]} at {self._key[1]:#x}>"


def _target(function: Function) -> Callable[..., Any] | None:
    """The ``opentim.tim`` function to call (every function of the reference is one: those not
    real yet answer "not yet" themselves); None only for an opentim older than the library."""
    found: Callable[..., Any] | None = getattr(opentim.tim, function.name, None)
    return found


class Export:
    """One exported function: C arguments in, the TIM function, the C result out."""

    def __init__(self, ffi: Ffi, function: Function) -> None:
        self.ffi = ffi
        self.function = function
        self.target = _target(function)
        self.callbacks = ref.callbacks()
        self._strings: dict[str, Any] = {}  # const char* results kept alive
        self._strings_lock = threading.Lock()

    def __call__(self, *c_args: Any) -> Any:
        try:
            return self._call(c_args)
        except BaseException:
            log.exception("opentim: %s failed", self.function.name)
            return self.on_error()

    def on_error(self) -> Any:
        returns = self.function.returns
        if returns == "int":
            return RESULT_ON_ERROR
        if returns == STRING:
            return self._c_result("")
        if returns == "void":
            return None
        if returns == "enum TIMLoginStatus":
            return ref.enum_value("TIMLoginStatus", "kTIMLoginStatus_UnLogined")
        return 0

    def _call(self, c_args: tuple[Any, ...]) -> Any:
        ffi = self.ffi
        args: list[Any] = []
        buffers: list[tuple[Any, bytearray]] = []
        for param, value in zip(self.function.params, c_args, strict=True):
            ctype = param.ctype
            if ctype == STRING:
                args.append(c_string(ffi, value))
            elif ctype == OUT_BUFFER:
                if value == ffi.NULL:
                    args.append(None)
                else:
                    buffer = bytearray(OUT_BUFFER_SIZE)
                    buffers.append((value, buffer))
                    args.append(buffer)
            elif ctype in self.callbacks:
                args.append(None if value == ffi.NULL else CCallback(ffi, ctype, value))
            else:  # integers, enums, bool, user_data (a void*, handed back as is)
                args.append(value)
        if self.target is None:
            return self.on_error() if self.function.returns != "void" else None
        result = self.target(*args)
        for pointer, buffer in buffers:
            data = bytes(buffer[: OUT_BUFFER_SIZE - 1]).split(b"\0", 1)[0] + b"\0"
            ffi.memmove(pointer, data, len(data))
        return self._result(result)

    def _result(self, result: Any) -> Any:
        returns = self.function.returns
        if returns == "void":
            return None
        if returns == STRING:
            return self._c_result(result if isinstance(result, str) else "")
        if result is None or isinstance(result, bool) or not isinstance(result, int):
            raise TypeError(f"{self.function.name} returned {result!r}, not an int")
        return int(result)

    def _c_result(self, text: str) -> Any:
        """A ``const char*`` result, valid for the life of the process (one per distinct
        text)."""
        with self._strings_lock:
            kept = self._strings.get(text)
            if kept is None:
                kept = self.ffi.new("char[]", text.encode("utf-8", "surrogateescape"))
                self._strings[text] = kept
            return kept


def install(ffi: Ffi) -> None:
    """Attach a Python body to the Python twin of every function the library exports
    (``ffi.def_extern``)."""
    for function in ref.functions():
        export = Export(ffi, function)
        name = PY_PREFIX + function.name
        error: Any = RESULT_ON_ERROR if function.returns == "int" else None
        if function.returns not in ("int", "void", STRING):
            error = export.on_error()
        if error is None:
            ffi.def_extern(name=name)(export)
        else:
            ffi.def_extern(name=name, error=error)(export)
