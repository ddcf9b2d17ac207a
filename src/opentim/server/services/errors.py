"""Service errors: a TIM code and a description, turned into an error frame by the gateway.

ServiceError
 ├── ConvNotFoundError   6004: the user has no such conversation
 ├── NotMemberError      10007: not a member of the group, or not allowed
 └── GroupNotFoundError  10010: no such group (or dismissed)
"""

from __future__ import annotations

from opentim.protocol import ErrorCode


class ServiceError(Exception):
    """A request the rules refuse."""

    def __init__(self, code: int, desc: str) -> None:
        super().__init__(f"{code}: {desc}")
        self.code = code
        self.desc = desc


class ConvNotFoundError(ServiceError):
    def __init__(self, conv_id: str) -> None:
        super().__init__(ErrorCode.ERR_INVALID_CONVERSATION, f"no conversation {conv_id!r}")


class NotMemberError(ServiceError):
    def __init__(self, desc: str) -> None:
        super().__init__(ErrorCode.ERR_SVR_GROUP_PERMISSION_DENY, desc)


class GroupNotFoundError(ServiceError):
    def __init__(self, group_id: str) -> None:
        super().__init__(ErrorCode.ERR_SVR_GROUP_NOT_FOUND, f"no group {group_id!r}")
