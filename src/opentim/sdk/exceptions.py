"""SDK errors. The asyncio API raises; it never returns error values.

SdkError          any failure, with the TIM callback code and a description
 └── ConnectionLostError   9508: the connection to the server is gone
"""

from __future__ import annotations

from opentim.protocol import ErrorCode


class SdkError(Exception):
    """A failed SDK call: ``code`` is the TIM error code, ``desc`` says why."""

    def __init__(self, code: int, desc: str) -> None:
        super().__init__(f"{code}: {desc}")
        self.code = code
        self.desc = desc


class ConnectionLostError(SdkError):
    def __init__(self, desc: str = "connection to the server lost") -> None:
        super().__init__(ErrorCode.ERR_SDK_NET_DISCONNECT, desc)
