"""The server session's state rules, sans I/O: frames in, a request or an error frame out."""

from __future__ import annotations

import msgspec
from hypothesis import given, strategies as st

from opentim.protocol import (
    ErrorCode,
    ServerSession,
    SessionState,
    When,
    allowed_ops,
    encode,
    raw,
)
from opentim.protocol.frames import Request, Response
from opentim.protocol.ops import Empty, LoginReq, OutMessage, SendReq

WHEN = {"login": When.BEFORE_LOGIN, "ping": When.ALWAYS, "send": When.LOGGED_IN}
"""A table like the server's (its own is tested in tests/server/test_op_table.py); ``logout``,
an op of the protocol, is missing on purpose: a missing op is never allowed."""

LOGIN = encode(Request(id=1, op="login", body=raw(LoginReq(user_id="a", user_sig="", sdkappid=1))))
PING = encode(Request(id=2, op="ping", body=raw(Empty())))
SEND = encode(
    Request(
        id=3,
        op="send",
        body=raw(SendReq(conv_type=1, conv_id="b", msg=OutMessage(msg_id="m", elems=[{}]))),
    )
)
LOGOUT = encode(Request(id=4, op="logout", body=raw(Empty())))


def code_of(out: tuple[Request, msgspec.Struct] | bytes) -> int:
    """The error code of an error frame, 0 for a request let through."""
    if isinstance(out, tuple):
        return 0
    return msgspec.json.decode(out, type=Response).code


@given(st.binary(max_size=300))
def test_server_session_never_raises_on_junk(junk: bytes) -> None:
    out = ServerSession(allowed_ops(WHEN)).receive_data(junk)
    assert isinstance(out, (bytes, tuple))


def test_each_state_admits_the_ops_its_when_allows() -> None:
    session = ServerSession(allowed_ops(WHEN))
    assert session.state is SessionState.AUTHENTICATING
    assert code_of(session.receive_data(SEND)) == ErrorCode.ERR_SDK_NOT_LOGGED_IN
    assert code_of(session.receive_data(PING)) == 0
    assert code_of(session.receive_data(LOGIN)) == 0

    session.logged_in("alice")
    assert (session.state, session.user_id) == (SessionState.OPEN, "alice")
    assert code_of(session.receive_data(LOGIN)) == ErrorCode.ERR_SDK_INVALID_OPERATION
    assert code_of(session.receive_data(PING)) == 0
    sent = session.receive_data(SEND)
    assert isinstance(sent, tuple)
    assert (sent[0].id, type(sent[1])) == (3, SendReq)
    assert code_of(session.receive_data(LOGOUT)) == ErrorCode.ERR_SDK_INVALID_OPERATION

    session.logged_out()
    assert (session.state, session.user_id) == (SessionState.AUTHENTICATING, "")
    assert code_of(session.receive_data(SEND)) == ErrorCode.ERR_SDK_NOT_LOGGED_IN

    session.close()
    for frame in (LOGIN, PING, SEND):
        assert code_of(session.receive_data(frame)) == ErrorCode.ERR_SDK_INVALID_OPERATION


def test_refusals_answer_the_request_id() -> None:
    session = ServerSession(allowed_ops(WHEN))
    res = msgspec.json.decode(session.receive_data(SEND), type=Response)  # type: ignore[arg-type]
    assert res.id == 3
    bad_body = encode(Request(id=7, op="login", body=msgspec.Raw(b'{"user_id":1}')))
    res = msgspec.json.decode(session.receive_data(bad_body), type=Response)  # type: ignore[arg-type]
    assert (res.id, res.code) == (7, ErrorCode.ERR_INVALID_PARAMETERS)
    res = msgspec.json.decode(session.receive_data(b"{"), type=Response)  # type: ignore[arg-type]
    assert (res.id, res.code) == (0, ErrorCode.ERR_INVALID_JSON)
