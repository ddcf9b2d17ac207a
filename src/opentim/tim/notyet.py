"""How a TIM function that is not real yet answers: it checks its state and arguments as every TIM
function does (DESIGN §6: the same synchronous codes), then answers ``NOT_YET_CODE`` (7013)
through its callback on the SDK thread. A setter of an event that is not real yet registers the
callback (None unregisters); the event fires once its feature is real.

The functions themselves are generated into ``pending.py`` from the reference's signatures; each
one passes its ``Pending`` spec (the issue that makes it real, and what each parameter is) here.
"""

from __future__ import annotations

from dataclasses import dataclass

from opentim.protocol import TIMResult
from opentim.sdk import SdkError

from . import keys as k
from .convert import (
    CallRefusedError,
    check_buffer,
    need_bool,
    need_callback,
    need_int,
    need_str,
    param_error,
    parse_json,
)
from .core import TIMCore
from .group import group_id_arg
from .plan import NOT_YET_CODE, issue_text
from .runtime import CallKind

INT_RANGES = {
    "uint32": (0, 1 << 32),
    "uint64": (0, 1 << 64),
    "int32": (-(1 << 31), 1 << 31),
    "int": (-(1 << 31), 1 << 31),
    "int64": (-(1 << 63), 1 << 63),
}
"""The values each C integer type of the reference holds."""


@dataclass(frozen=True)
class Param:
    """One parameter of a function that is not real yet, as its check needs it.

    ``kind``: ``json`` (a JSON object or array; None, ``""`` or ``null`` means not given),
    ``str`` (a C string, may be NULL), ``conv_ident`` / ``group_ident`` (a required id),
    ``conv_kind`` (C2C or Group), ``enum`` (one of ``values``), an integer kind of
    ``INT_RANGES``, ``bool``, ``buffer`` (None or a bytearray), ``comm`` (a required
    ``TIMCommCallback``), ``callback`` (a required callback of another typedef),
    ``user_data``.
    """

    name: str
    kind: str
    values: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Pending:
    """A function that is not real yet: its name, the issue that makes it real (``plan.LATER``
    for none filed), its parameters."""

    name: str
    issue: int
    params: tuple[Param, ...]

    @property
    def desc(self) -> str:
        return f"{self.name} is not implemented by opentim yet ({issue_text(self.issue)})"


def check_arg(param: Param, value: object) -> None:
    """Refuse ``value`` for ``param`` with the synchronous code DESIGN §6 gives."""
    kind, name = param.kind, param.name
    if kind == "json":
        text = parse_json(value, object, name, optional=True)
        if text is not None and not isinstance(text, dict | list):
            raise CallRefusedError(TIMResult.TIM_ERR_JSON, f"{name} must be a JSON object or array")
    elif kind == "str":
        if value is not None and not isinstance(value, str):
            raise param_error(f"{name} must be a str or None")
    elif kind == "conv_ident":
        need_str(value, name)
    elif kind == "group_ident":
        group_id_arg(value, name)
    elif kind == "conv_kind":
        if need_int(value, name) not in (k.kTIMConv_C2C, k.kTIMConv_Group):
            raise CallRefusedError(TIMResult.TIM_ERR_CONV, f"{name} {value} is not C2C or Group")
    elif kind == "enum":
        if need_int(value, name) not in param.values:
            raise param_error(f"{name} {value} is not a value of its enum")
    elif kind in INT_RANGES:
        low, high = INT_RANGES[kind]
        if not low <= need_int(value, name) < high:
            raise param_error(f"{name} must be a {kind}")
    elif kind == "bool":
        need_bool(value, name)
    elif kind == "buffer":
        check_buffer(value, name)
    elif kind in ("comm", "callback"):
        need_callback(value)


class NotYetAPI(TIMCore):
    """The two answers of functions that are not real yet."""

    def _not_yet(self, spec: Pending, *args: object) -> int:
        """Check the call, then answer 7013 through its (last) ``TIMCommCallback``; a function
        without one (``TIMMsgGetGroupMessageReadMemberList``) returns 7013 at once."""
        client = self._require()
        values = dict(zip((p.name for p in spec.params), args, strict=True))
        for param in spec.params:
            check_arg(param, values[param.name])
        comm = [p.name for p in spec.params if p.kind == "comm"]
        if not comm:
            return NOT_YET_CODE
        callback = values[comm[-1]]
        assert callable(callback)
        user_data = values.get("user_data")

        async def work() -> str:
            raise SdkError(NOT_YET_CODE, spec.desc)

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)
