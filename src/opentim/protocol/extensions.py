"""Wire models of message extensions: the ops' bodies (``ops.OPS``) and the ``ext`` push that
tells every device of the conversation's members of a change."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from .models import Req, Struct
from .ranges import U32, U64
from .rules.extensions import MAX_PER_CALL


class Extension(Struct):
    key: str
    value: str = ""
    version: int = 0


class ExtItem(Req):
    key: str
    value: str
    version: U64 = 0
    """The version the caller last saw (0: it believes the key absent)."""


class ExtMsgReq(Req):
    """One message of a conversation, by seq (``msg_id``, when given, must match)."""

    conv_type: U32
    conv_id: str
    seq: U64
    msg_id: str = ""


class ExtSetReq(ExtMsgReq):
    items: Annotated[list[ExtItem], Meta(max_length=MAX_PER_CALL)] = []


class ExtDeleteReq(ExtMsgReq):
    keys: Annotated[list[str], Meta(max_length=MAX_PER_CALL)] = []
    """The keys to delete; none: all of them."""


class ExtResult(Struct):
    """One key's outcome: ``code`` 0, or why not, with the key as it is now."""

    ext: Extension
    code: int = 0
    desc: str = ""


class ExtResultsRes(Struct):
    results: list[ExtResult]


class ExtsRes(Struct):
    exts: list[Extension]


class ExtPush(Struct):
    """A message's extensions changed: the keys set (as they are now) and the keys deleted."""

    conv_type: int
    sender: str
    receiver: str
    seq: int
    msg_id: str
    changed: list[Extension] = []
    deleted: list[str] = []


EXT_OPS: dict[str, tuple[type[Struct], type[Struct]]] = {
    "ext_set": (ExtSetReq, ExtResultsRes),
    "ext_get": (ExtMsgReq, ExtsRes),
    "ext_delete": (ExtDeleteReq, ExtResultsRes),
}
EXT_READ_OPS = frozenset({"ext_get"})
EXT_PUSHES: dict[str, type[Struct]] = {"ext": ExtPush}
