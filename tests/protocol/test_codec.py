from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, strategies as st

from opentim.protocol import (
    ErrorCode,
    Message,
    Push,
    RemoteProtocolError,
    ServerSession,
    When,
    allowed_ops,
    decode_body,
    decode_push,
    decode_request,
    decode_server_frame,
    encode,
    push_frame,
    raw,
    response,
)
from opentim.protocol.frames import Request, Response
from opentim.protocol.ops import OPS, Empty, LoginReq, MsgPush, SendReq

texts = st.text(max_size=20)
messages = st.builds(
    Message,
    msg_id=texts,
    conv_type=st.sampled_from([1, 2]),
    sender=texts,
    receiver=texts,
    elems=st.lists(st.fixed_dictionaries({"elem_type": st.just(0), "text_elem_content": texts})),
    seq=st.integers(0, 2**62),
    count=st.integers(0, 2**62),
    at_users=st.lists(texts, max_size=3),
)


@given(messages)
def test_message_round_trips_through_a_push(msg: Message) -> None:
    frame = decode_server_frame(push_frame("msg", MsgPush(msg=msg)))
    assert decode_body(MsgPush, frame.body).msg == msg


def test_request_is_decoded_with_its_body_type() -> None:
    data = encode(
        Request(id=3, op="login", body=raw(LoginReq(user_id="a", user_sig="s", sdkappid=1)))
    )
    req, body = decode_request(data)
    assert req.id == 3
    assert body == LoginReq(user_id="a", user_sig="s", sdkappid=1)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"{", ErrorCode.ERR_INVALID_JSON),
        (b'{"t":"req","id":1,"op":"nope"}', ErrorCode.ERR_SDK_INVALID_OPERATION),
        (
            b'{"t":"req","id":1,"op":"send","body":{"conv_type":"x"}}',
            ErrorCode.ERR_INVALID_PARAMETERS,
        ),
        (b"x" * 300_000, ErrorCode.ERR_SDK_MSG_BODY_SIZE_LIMIT),
    ],
)
def test_bad_frames_raise_remote_protocol_error(data: bytes, code: int) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        decode_request(data)
    assert info.value.code == code


def test_response_frame_round_trips() -> None:
    frame = decode_server_frame(response(4, Empty()))
    assert isinstance(frame, Response)
    assert (frame.id, frame.code) == (4, 0)


def test_send_request_body_requires_fields() -> None:
    with pytest.raises(RemoteProtocolError):
        decode_body(SendReq, b'{"conv_type":1}')


@pytest.mark.parametrize(
    "frame",
    [
        b'{"t":"req","id":1,"op":"ping","body":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"t":"req","id":1,"op":"profile_get","body":{"user_ids":["\xff"]}}',
        '{"t":"req","id":1,"op":"ping","body":{"x":"\ud800"}}',
    ],
    ids=["nested-past-the-stack", "binary-not-utf8", "str-with-lone-surrogate"],
)
def test_frames_that_are_not_json_are_answered_6027_never_raised(frame: bytes | str) -> None:
    session = ServerSession(allowed_ops(dict.fromkeys(OPS, When.ALWAYS)))
    session.logged_in("alice")
    out = session.receive_data(frame)
    assert isinstance(out, bytes)
    assert msgspec.json.decode(out)["code"] == ErrorCode.ERR_INVALID_JSON


def test_a_push_nested_past_the_stack_is_a_protocol_error_for_the_sdk() -> None:
    nested = b"[" * 100_000 + b"]" * 100_000
    deep = msgspec.Raw(
        b'{"msg":{"msg_id":"m","conv_type":1,"sender":"a","receiver":"b","elems":[{"x":'
        + nested
        + b"}]}}"
    )
    with pytest.raises(RemoteProtocolError):
        decode_push(Push(kind="msg", body=deep))
