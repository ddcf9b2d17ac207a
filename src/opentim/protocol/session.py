"""Server-side session state, sans I/O.

Rules (one table, ALLOWED): a new session is AUTHENTICATING and accepts only ``login`` and
``ping``; a successful login makes it OPEN, where every op but ``login`` is allowed; an expired
UserSig makes it AUTHENTICATING again; a CLOSED session accepts nothing. A frame that breaks a
rule is answered with an error frame, never an exception: ``receive_data`` returns either the
decoded request or the bytes to send back.
"""

from __future__ import annotations

from enum import IntEnum

import msgspec

from .codec import decode_envelope, decode_request_body, error_response
from .codes import ErrorCode
from .exceptions import RemoteProtocolError
from .frames import Request
from .ops import OPS


class SessionState(IntEnum):
    AUTHENTICATING = 1
    OPEN = 2
    CLOSED = 3


ALLOWED: dict[SessionState, frozenset[str]] = {
    SessionState.AUTHENTICATING: frozenset({"login", "ping"}),
    SessionState.OPEN: frozenset(OPS) - {"login"},
    SessionState.CLOSED: frozenset(),
}


class ServerSession:
    """One client connection's protocol state."""

    def __init__(self) -> None:
        self.state = SessionState.AUTHENTICATING
        self.user_id = ""

    def receive_data(self, data: bytes | str) -> tuple[Request, msgspec.Struct] | bytes:
        """Decode one frame: the request and its body, or an error frame to send back."""
        try:
            req = decode_envelope(data)
        except RemoteProtocolError as exc:
            return error_response(0, exc.code, exc.desc)
        if req.op not in ALLOWED[self.state]:
            code = (
                ErrorCode.ERR_SDK_NOT_LOGGED_IN
                if self.state is SessionState.AUTHENTICATING
                else ErrorCode.ERR_SDK_INVALID_OPERATION
            )
            return error_response(req.id, code, f"{req.op!r} not allowed now")
        try:
            return req, decode_request_body(req)
        except RemoteProtocolError as exc:
            return error_response(req.id, exc.code, exc.desc)

    def logged_in(self, user_id: str) -> None:
        """Login succeeded: the session is open and acts as ``user_id`` only."""
        self.state = SessionState.OPEN
        self.user_id = user_id

    def logged_out(self) -> None:
        """The login ended without closing the connection (the UserSig expired): every op but
        ``login`` and ``ping`` is refused with 6014 again."""
        self.state = SessionState.AUTHENTICATING
        self.user_id = ""

    def close(self) -> None:
        self.state = SessionState.CLOSED
