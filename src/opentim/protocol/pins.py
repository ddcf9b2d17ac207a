"""Wire models of pinned group messages: the ops' bodies (``ops.OPS``) and the ``pinned`` push
every member's devices get on a change."""

from __future__ import annotations

from .models import Message, Req, Struct
from .ranges import U64


class PinReq(Req):
    """Pin (``pinned``) or unpin message ``seq`` of a group (``msg_id``, when given, must match)."""

    group_id: str
    seq: U64
    pinned: bool
    msg_id: str = ""


class PinnedListReq(Struct):
    group_id: str


class PinnedListRes(Struct):
    msgs: list[Message]
    """The pinned messages, in the order they were pinned."""


class PinnedPush(Struct):
    group_id: str
    msg: Message
    pinned: bool
    op_user: str


class PinRes(Struct):
    """Nothing but success."""


PIN_OPS: dict[str, tuple[type[Struct], type[Struct]]] = {
    "msg_pin": (PinReq, PinRes),
    "msg_pinned_list": (PinnedListReq, PinnedListRes),
}
PIN_READ_OPS = frozenset({"msg_pinned_list"})
PIN_PUSHES: dict[str, type[Struct]] = {"pinned": PinnedPush}
