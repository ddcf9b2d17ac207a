"""Every integer and list of every request is bounded by its type in the reference or a
documented limit, and a value outside is answered with 6017 before any service sees it
(issue 9, findings 5 and 6)."""

from __future__ import annotations

import base64
from typing import Any

import msgspec
import pytest

from opentim.protocol import ErrorCode, RemoteProtocolError, ServerSession, parse_token
from opentim.protocol.limits import (
    MAX_AT_USERS,
    MAX_CONVS_PER_CALL,
    MAX_HISTORY_PAGE,
    MAX_INVITE_PER_CALL,
    MAX_USERS_PER_CALL,
)
from opentim.protocol.ops import OPS, Req
from opentim.protocol.ranges import U64_MAX, u64_fields
from opentim.server.gateway.dispatch import ALLOWED

TOO_BIG = [1 << 64, 1 << 70, -1]


def answer(op: str, body: dict[str, Any]) -> Any:
    """What a logged-in session does with one request: the decoded body or the error code."""
    session = ServerSession(ALLOWED)
    session.logged_in("alice")
    frame = msgspec.json.encode({"t": "req", "id": 9, "op": op, "body": body})
    out = session.receive_data(frame)
    if isinstance(out, bytes):
        return msgspec.json.decode(out)["code"]
    return out[1]


def send(**msg: Any) -> dict[str, Any]:
    base = {"msg_id": "m1", "elems": [{"elem_type": 0, "text_elem_content": "hi"}]}
    return {"conv_type": 1, "conv_id": "bob", "msg": base | msg}


# The fields the attack reached SQLite with (7012 and a traceback), and the app mark bit 63.
OUT_OF_RANGE = [
    ("send", lambda v: send(client_time=v)),
    ("send", lambda v: send(random=v)),
    ("send", lambda v: send(priority=v if v < 0 else v << 32)),
    ("send", lambda v: send(platform=v if v < 0 else v << 32)),
    ("catch_up", lambda v: {"conv_type": 1, "conv_id": "bob", "after_seq": v}),
    ("history", lambda v: {"conv_type": 1, "conv_id": "bob", "before_seq": v}),
    ("msg_revoke", lambda v: {"conv_type": 1, "conv_id": "bob", "seq": v}),
    ("msg_delete", lambda v: {"conv_type": 1, "conv_id": "bob", "seqs": [1, v]}),
    ("conv_read", lambda v: {"conv_type": 1, "conv_id": "bob", "seq": v}),
    ("conv_mark", lambda v: {"keys": [{"conv_type": 1, "conv_id": "b"}], "mark": v, "enable": 1}),
    ("conv_pin", lambda v: {"conv_type": v, "conv_id": "bob", "pinned": True}),
]


@pytest.mark.parametrize(("op", "body"), OUT_OF_RANGE)
@pytest.mark.parametrize("value", TOO_BIG)
def test_integer_outside_its_type_is_refused_with_6017(op: str, body: Any, value: int) -> None:
    assert answer(op, body(value)) == ErrorCode.ERR_INVALID_PARAMETERS


def test_uint64_fields_take_their_whole_range() -> None:
    body = answer("send", send(client_time=U64_MAX, random=U64_MAX))
    assert (body.msg.client_time, body.msg.random) == (U64_MAX, U64_MAX)
    mark = {"keys": [{"conv_type": 1, "conv_id": "b"}], "mark": 1 << 63, "enable": True}
    assert answer("conv_mark", mark).mark == 1 << 63
    assert answer("msg_delete", {"conv_type": 1, "conv_id": "b", "seqs": [U64_MAX]}).seqs == [
        U64_MAX
    ]


def test_sync_token_with_huge_positions_is_refused() -> None:
    for field in ("pos", "horizon", "after_type"):
        token = base64.urlsafe_b64encode(msgspec.json.encode({"v": 1, "phase": 2, field: 1 << 64}))
        with pytest.raises(RemoteProtocolError) as info:
            parse_token(token.decode())
        assert info.value.code == ErrorCode.ERR_INVALID_PARAMETERS


LISTS = [
    ("conv_get", MAX_CONVS_PER_CALL, lambda n: {"keys": [{"conv_type": 1, "conv_id": "b"}] * n}),
    ("profile_get", MAX_USERS_PER_CALL, lambda n: {"user_ids": ["u"] * n}),
    ("send", MAX_AT_USERS, lambda n: send(at_users=["u"] * n)),
    ("msg_delete", MAX_HISTORY_PAGE, lambda n: {"conv_type": 1, "conv_id": "b", "seqs": [1] * n}),
    ("group_invite", MAX_INVITE_PER_CALL, lambda n: {"group_id": "g", "user_ids": ["u"] * n}),
    ("group_kick", MAX_INVITE_PER_CALL, lambda n: {"group_id": "g", "user_ids": ["u"] * n}),
]


@pytest.mark.parametrize(("op", "limit", "body"), LISTS)
def test_list_arguments_are_bounded(op: str, limit: int, body: Any) -> None:
    assert not isinstance(answer(op, body(limit)), int)
    assert answer(op, body(limit + 1)) == ErrorCode.ERR_INVALID_PARAMETERS


def _unbounded(info: Any, where: str) -> list[str]:
    """Integers without a range and lists without a length limit in a request type."""
    if isinstance(info, msgspec.inspect.Metadata):
        info = info.type
    if isinstance(info, msgspec.inspect.StructType):
        out = []
        for f in info.fields:
            if f.name in u64_fields(info.cls):
                assert issubclass(info.cls, Req), f"{info.cls.__name__} must check its uint64s"
                continue
            out += _unbounded(f.type, f"{where}.{f.name}")
        return out
    if isinstance(info, msgspec.inspect.UnionType):
        return [x for t in info.types for x in _unbounded(t, where)]
    if isinstance(info, msgspec.inspect.IntType):
        return [] if info.ge is not None and info.le is not None else [where]
    if isinstance(info, msgspec.inspect.ListType):
        mine = [] if info.max_length is not None else [where]
        return mine + _unbounded(info.item_type, f"{where}[]")
    return []


def test_every_integer_and_list_of_every_request_is_bounded() -> None:
    # A new op, or a new field, cannot skip its bound: this walks the op table.
    unbounded = [
        x for op, (req, _) in OPS.items() for x in _unbounded(msgspec.inspect.type_info(req), op)
    ]
    assert unbounded == []
