"""The Store interface every engine implements, and the rows it takes.

Services speak to this interface only (DESIGN §1). An engine allocates ``seq`` (gap-free per
channel) and the order/change clock inside the writing transaction, and returns only after the
write is durable, so an acknowledgement always follows the commit.

OpenTimError (opentim.protocol; the whole tree is drawn there)
 └── StoreError                   7010: the store cannot do what was asked
      ├── DuplicateGroupError
      ├── DuplicateConvGroupError
      └── StoreUnavailableError    the database cannot be reached
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from opentim.protocol import ErrorCode, Message, OpenTimError
from opentim.protocol.rules import ConvChange

if TYPE_CHECKING:
    from .repos import (
        Conversations,
        ConvGroups,
        Extensions,
        Friends,
        Groups,
        Messages,
        Pins,
        Presence,
        Reactions,
        Users,
    )

__all__ = [
    "Appended",
    "ConvChange",
    "DuplicateConvGroupError",
    "DuplicateGroupError",
    "GroupRow",
    "Key",
    "NewMessage",
    "Revoked",
    "Store",
    "StoreError",
    "StoreUnavailableError",
]


class StoreError(OpenTimError):
    """The store cannot do what was asked (a constraint the service should have checked)."""

    show_code = False

    def __init__(self, desc: str) -> None:
        super().__init__(ErrorCode.ERR_SDK_COMM_DATABASE_FAILURE, desc)


class DuplicateGroupError(StoreError):
    """The group id is taken."""


class DuplicateConvGroupError(StoreError):
    """The user already has a conversation group of that name."""


class StoreUnavailableError(StoreError):
    """The database cannot be reached (or the connection broke mid-request); nothing the
    request asked for was acknowledged, and the same request may be retried later."""


@dataclass(slots=True)
class NewMessage:
    """A message to append; the store fills seq, count, activity and server time."""

    channel_id: str
    conv_type: int
    sender: str
    receiver: str
    msg_id: str
    elems: list[dict[str, Any]]
    client_time: int = 0
    random: int = 0
    priority: int = 1
    platform: int = 0
    cloud_custom_data: str = ""
    excluded_from_unread: bool = False
    excluded_from_last: bool = False
    is_tips: bool = False
    supports_extensions: bool = False
    at_users: list[str] = field(default_factory=list)
    owners: tuple[tuple[str, int, str], ...] = ()
    """``(user_id, conv_type, conv_id)`` conversations that must exist for this message (C2C)."""


@dataclass(slots=True)
class Appended:
    """The stored message, and whether it was already there (an idempotent resend)."""

    msg: Message
    duplicate: bool


Key = tuple[int, str]
"""``(conv_type, conv_id)`` of one user's conversation."""


@dataclass(slots=True)
class Revoked:
    """A revoked message as it is now, and the change position of the revoke."""

    msg: Message
    pos: int


@dataclass(slots=True)
class GroupRow:
    group_id: str
    name: str
    group_type: int
    owner: str
    add_option: int
    face_url: str = ""
    introduction: str = ""
    notification: str = ""
    create_time: int = 0
    approve_option: int = 2
    shutup_all: bool = False
    custom: dict[str, str] = field(default_factory=dict)


class Store(Protocol):
    """Durable state of one opentim deployment: the repositories (written once, in repos/),
    over an engine (sqlite.py, postgres.py) that keeps only the mechanics."""

    db_id: int
    """The database's identity (store/identity.py), known once ``open`` returned."""
    users: Users
    messages: Messages
    convs: Conversations
    conv_groups: ConvGroups
    groups: Groups
    friends: Friends
    presence: Presence
    reactions: Reactions
    pins: Pins
    extensions: Extensions

    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def clock_now(self) -> int:
        """The server-wide clock: no committed change has a later position."""
        ...

    async def rotate_database_id(self) -> int:
        """Give the database a new identity, as after restoring a backup; returns it."""
        ...
