"""The opentim wire protocol, sans I/O: frames, ops, models, codes, UserSig."""

from __future__ import annotations

from .codec import (
    decode_body,
    decode_push,
    decode_request,
    decode_server_frame,
    encode,
    error_response,
    push_frame,
    raw,
    response,
)
from .codes import ErrorCode, TIMResult
from .cursors import SyncToken, encode_token, parse_token
from .exceptions import (
    FrameTooBigError,
    LocalProtocolError,
    OpenTimProtocolError,
    RemoteProtocolError,
)
from .frames import Push, Request, Response
from .ids import (
    c2c_channel,
    channel_of,
    conversation_id,
    group_channel,
    parse_conversation_id,
)
from .models import (
    PINNED_BIT,
    AddOption,
    Conversation,
    ConvType,
    Draft,
    GroupInfo,
    GroupType,
    MemberResult,
    MemberRole,
    Message,
    Profile,
    TipType,
)
from .session import ServerSession, SessionState
from .usersig import DEFAULT_EXPIRE, make_usersig, verify_usersig

__all__ = [
    "DEFAULT_EXPIRE",
    "PINNED_BIT",
    "AddOption",
    "ConvType",
    "Conversation",
    "Draft",
    "ErrorCode",
    "FrameTooBigError",
    "GroupInfo",
    "GroupType",
    "LocalProtocolError",
    "MemberResult",
    "MemberRole",
    "Message",
    "OpenTimProtocolError",
    "Profile",
    "Push",
    "RemoteProtocolError",
    "Request",
    "Response",
    "ServerSession",
    "SessionState",
    "SyncToken",
    "TIMResult",
    "TipType",
    "c2c_channel",
    "channel_of",
    "conversation_id",
    "decode_body",
    "decode_push",
    "decode_request",
    "decode_server_frame",
    "encode",
    "encode_token",
    "error_response",
    "group_channel",
    "make_usersig",
    "parse_conversation_id",
    "parse_token",
    "push_frame",
    "raw",
    "response",
    "verify_usersig",
]
