"""Bytes ↔ frames. Decoding never raises anything but RemoteProtocolError."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from .codes import ErrorCode
from .exceptions import FrameTooBigError, RemoteProtocolError
from .frames import Push, Request, Response
from .limits import MAX_FRAME_BYTES
from .ops import OPS, PUSHES

T = TypeVar("T", bound=msgspec.Struct)

_encoder = msgspec.json.Encoder()
_request_decoder = msgspec.json.Decoder(Request)
_server_decoder: msgspec.json.Decoder[Response | Push] = msgspec.json.Decoder(Response | Push)
_body_decoders: dict[type[Any], msgspec.json.Decoder[Any]] = {}


def encode(obj: msgspec.Struct) -> bytes:
    """Encode a frame or a body struct as compact JSON."""
    return _encoder.encode(obj)


def raw(obj: msgspec.Struct) -> msgspec.Raw:
    """A body struct, encoded, ready to embed in an envelope."""
    return msgspec.Raw(_encoder.encode(obj))


def _decoder(kind: type[T]) -> msgspec.json.Decoder[T]:
    dec = _body_decoders.get(kind)
    if dec is None:
        dec = _body_decoders[kind] = msgspec.json.Decoder(kind)
    return dec


def decode_body(kind: type[T], data: bytes | msgspec.Raw) -> T:
    """Decode a body as ``kind``; bad input raises RemoteProtocolError."""
    try:
        return _decoder(kind).decode(data)
    except msgspec.ValidationError as exc:
        raise RemoteProtocolError(ErrorCode.ERR_INVALID_PARAMETERS, str(exc)) from exc
    except msgspec.DecodeError as exc:
        raise RemoteProtocolError(ErrorCode.ERR_INVALID_JSON, str(exc)) from exc
    except RecursionError as exc:
        # JSON nested deeper than the interpreter's stack allows.
        raise RemoteProtocolError(ErrorCode.ERR_INVALID_JSON, "JSON nested too deeply") from exc
    except UnicodeError as exc:
        # A binary frame whose strings are not UTF-8.
        raise RemoteProtocolError(ErrorCode.ERR_INVALID_JSON, "JSON is not UTF-8") from exc


def _check_size(data: bytes | str) -> None:
    if len(data) > MAX_FRAME_BYTES:
        raise FrameTooBigError(ErrorCode.ERR_SDK_MSG_BODY_SIZE_LIMIT, "frame too big")


def _utf8(data: bytes | str) -> bytes:
    if isinstance(data, bytes):
        return data
    try:
        return data.encode()
    except UnicodeError as exc:  # a str with a lone surrogate
        raise RemoteProtocolError(ErrorCode.ERR_INVALID_JSON, "JSON is not UTF-8") from exc


def decode_envelope(data: bytes | str) -> Request:
    """Decode a client frame's envelope; the op must be one the table knows."""
    _check_size(data)
    req = decode_body(Request, _utf8(data))
    if req.op not in OPS:
        raise RemoteProtocolError(ErrorCode.ERR_SDK_INVALID_OPERATION, f"unknown op {req.op!r}")
    return req


def decode_request_body(req: Request) -> msgspec.Struct:
    """Decode a request's body as its op's request type."""
    return decode_body(OPS[req.op][0], req.body)


def decode_request(data: bytes | str) -> tuple[Request, msgspec.Struct]:
    """Decode a client frame and its body, checked against the op table."""
    req = decode_envelope(data)
    return req, decode_request_body(req)


def decode_server_frame(data: bytes | str) -> Response | Push:
    """Decode a server frame; the body stays raw until the caller knows its type."""
    try:
        return _server_decoder.decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError, RecursionError, UnicodeError) as exc:
        raise RemoteProtocolError(ErrorCode.ERR_PARSE_RESPONSE_FAILED, str(exc)) from exc


def decode_push(push: Push) -> msgspec.Struct:
    """Decode a push body by its kind."""
    kind = PUSHES.get(push.kind)
    if kind is None:
        code = ErrorCode.ERR_PARSE_RESPONSE_FAILED
        raise RemoteProtocolError(code, f"unknown push {push.kind!r}")
    return decode_body(kind, push.body)


def response(req_id: int, body: msgspec.Struct) -> bytes:
    """A success response frame."""
    return _encoder.encode(Response(id=req_id, body=raw(body)))


def error_response(req_id: int, code: int, desc: str) -> bytes:
    """An error response frame."""
    return _encoder.encode(Response(id=req_id, code=code, desc=desc))


def push_frame(kind: str, body: msgspec.Struct) -> bytes:
    """A push frame."""
    return _encoder.encode(Push(kind=kind, body=raw(body)))
