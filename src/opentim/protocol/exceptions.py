"""Protocol errors.

OpenTimProtocolError
 ├── LocalProtocolError   our own caller tried something the protocol forbids
 └── RemoteProtocolError  the peer sent something the protocol forbids
      └── FrameTooBigError     a frame over the size limit

Each error carries the ErrorCode to report back to the peer (h11's error_status_hint).
"""

from __future__ import annotations

from .codes import ErrorCode


class OpenTimProtocolError(Exception):
    """Root of every protocol error."""

    def __init__(self, code: ErrorCode, desc: str) -> None:
        super().__init__(f"{int(code)}: {desc}")
        self.code = code
        self.desc = desc


class LocalProtocolError(OpenTimProtocolError):
    """Our caller tried to send something illegal."""


class RemoteProtocolError(OpenTimProtocolError):
    """The peer sent something illegal."""


class FrameTooBigError(RemoteProtocolError):
    """A frame exceeded the size limit."""
