"""Server-side session state, sans I/O.

Rules: a new session is AUTHENTICATING; a successful login makes it OPEN; an expired UserSig
makes it AUTHENTICATING again; a CLOSED session accepts nothing. When each op may be asked
(``When``: before login, once logged in, or both) is a column of the server's op table
(opentim.server.gateway.dispatch), handed to each session. A frame that breaks a rule is answered
with an error frame, never an exception: ``receive_data`` returns either the decoded request or
the bytes to send back.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Flag, IntEnum, auto

import msgspec

from .codec import decode_envelope, decode_request_body, error_response
from .codes import ErrorCode
from .exceptions import RemoteProtocolError
from .frames import Request


class SessionState(IntEnum):
    AUTHENTICATING = 1
    OPEN = 2
    CLOSED = 3


class When(Flag):
    """When an op may be asked."""

    NEVER = 0
    BEFORE_LOGIN = auto()
    LOGGED_IN = auto()
    ALWAYS = BEFORE_LOGIN | LOGGED_IN


ADMITS: dict[SessionState, When] = {
    SessionState.AUTHENTICATING: When.BEFORE_LOGIN,
    SessionState.OPEN: When.LOGGED_IN,
    SessionState.CLOSED: When.NEVER,
}
"""Which ops a session in each state accepts: those whose ``When`` includes this."""


def allowed_ops(when: Mapping[str, When]) -> dict[SessionState, frozenset[str]]:
    """Per state, the ops a session accepts, from op → when it may be asked (an op missing
    from ``when`` is never allowed). Built once per table: sessions only look names up."""
    return {
        state: frozenset(op for op, w in when.items() if w & admits)
        for state, admits in ADMITS.items()
    }


class ServerSession:
    """One client connection's protocol state.

    Args:
        allowed: per state, the ops accepted (``allowed_ops`` of the server's op table).
    """

    def __init__(self, allowed: Mapping[SessionState, frozenset[str]]) -> None:
        self.allowed = allowed
        self.state = SessionState.AUTHENTICATING
        self.user_id = ""

    def receive_data(self, data: bytes | str) -> tuple[Request, msgspec.Struct] | bytes:
        """Decode one frame: the request and its body, or an error frame to send back."""
        try:
            req = decode_envelope(data)
        except RemoteProtocolError as exc:
            return error_response(0, exc.code, exc.desc)
        if req.op not in self.allowed[self.state]:
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
