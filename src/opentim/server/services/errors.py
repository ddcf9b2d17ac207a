"""Service errors: a TIM code and a description, turned into an error frame by the gateway
(``gateway.dispatch.error_frame``, the one place any exception becomes a frame).

OpenTimError (opentim.protocol; the whole tree is drawn there)
 └── ServiceError            a request the rules refuse
      ├── ConvNotFoundError   6004: the user has no such conversation
      ├── NotMemberError      10007: not a member of the group, or not allowed
      └── GroupNotFoundError  10010: no such group (or dismissed)
"""

from __future__ import annotations

from opentim.protocol import ErrorCode, OpenTimError


class ServiceError(OpenTimError):
    """A request the rules refuse."""


class ConvNotFoundError(ServiceError):
    def __init__(self, conv_id: str) -> None:
        super().__init__(ErrorCode.ERR_INVALID_CONVERSATION, f"no conversation {conv_id!r}")


class NotMemberError(ServiceError):
    def __init__(self, desc: str) -> None:
        super().__init__(ErrorCode.ERR_SVR_GROUP_PERMISSION_DENY, desc)


class GroupNotFoundError(ServiceError):
    def __init__(self, group_id: str) -> None:
        super().__init__(ErrorCode.ERR_SVR_GROUP_NOT_FOUND, f"no group {group_id!r}")
