"""SDK errors. The asyncio API raises; it never returns error values.

OpenTimError (opentim.protocol; the whole tree is drawn there)
 └── SdkError               any failed SDK call, with the TIM callback code and a description
      └── ConnectionLostError   9508: the connection to the server is gone

``error_of`` is the one place an error frame becomes an ``SdkError``.
"""

from __future__ import annotations

from opentim.protocol import ErrorCode, OpenTimError, Response


class SdkError(OpenTimError):
    """A failed SDK call: ``code`` is the TIM error code, ``desc`` says why."""


class ConnectionLostError(SdkError):
    def __init__(self, desc: str = "connection to the server lost") -> None:
        super().__init__(ErrorCode.ERR_SDK_NET_DISCONNECT, desc)


def error_of(res: Response) -> SdkError:
    """The error an error frame (``res.code`` not 0) stands for: the server's code and reason,
    as the app sees them."""
    return SdkError(res.code, res.desc)
