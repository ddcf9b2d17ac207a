"""The Store interface every engine implements, and the rows it takes.

Services speak to this interface only (DESIGN §1). An engine allocates ``seq`` (gap-free per
channel) and the order/change clock inside the writing transaction, and returns only after the
write is durable, so an acknowledgement always follows the commit.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, Protocol

from opentim.protocol import Conversation, Draft, GroupInfo, Message, Profile, SyncToken


class StoreError(Exception):
    """The store cannot do what was asked (a constraint the service should have checked)."""


class DuplicateGroupError(StoreError):
    """The group id is taken."""


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
    at_users: list[str] = field(default_factory=list)
    owners: tuple[tuple[str, int, str], ...] = ()
    """``(user_id, conv_type, conv_id)`` conversations that must exist for this message (C2C)."""


@dataclass(slots=True)
class Appended:
    """The stored message, and whether it was already there (an idempotent resend)."""

    msg: Message
    duplicate: bool


@dataclass(slots=True)
class ConvChange:
    """One change to one user's conversation; fields left None are not touched."""

    pinned: bool | None = None
    draft: Draft | None = None
    clear_draft: bool = False
    read_up_to: int | None = None
    """Read up to this seq (0 = the newest)."""
    delete: bool = False
    create: bool = False


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


class Store(Protocol):
    """Durable state of one opentim deployment."""

    async def open(self) -> None: ...
    async def close(self) -> None: ...

    # users
    async def ensure_user(self, user_id: str, create: bool) -> Profile | None: ...
    async def get_profiles(self, user_ids: list[str]) -> dict[str, Profile]: ...
    async def update_profile(self, user_id: str, changes: dict[str, Any]) -> Profile: ...

    # messages
    def append(self, msg: NewMessage, server_time: int) -> Awaitable[Appended]:
        """Queue ``msg`` now (seqs follow call order); the awaitable resolves once durable."""
        ...

    async def history(
        self, user_id: str, conv_type: int, conv_id: str, before_seq: int, count: int
    ) -> list[Message]: ...
    async def messages_between(self, channel_id: str, after_seq: int, to_seq: int) -> list[Message]:
        """The channel's messages with ``after_seq < seq <= to_seq``, oldest first (a node
        filling a gap in what the bus brought it; STYLE §2.3)."""
        ...

    # conversations
    async def get_conversations(
        self, user_id: str, keys: list[tuple[int, str]]
    ) -> list[Conversation]: ...
    async def sync_conversations(
        self, user_id: str, token: SyncToken, limit: int
    ) -> tuple[list[Conversation], SyncToken, bool]:
        """A page of conversations after ``token`` (see protocol/cursors.py), the token to
        continue from, and whether more may follow."""
        ...

    async def change_conversation(
        self, user_id: str, conv_type: int, conv_id: str, change: ConvChange
    ) -> Conversation | None: ...

    # groups
    async def get_group(self, group_id: str) -> GroupRow | None: ...
    async def get_members(self, group_id: str) -> dict[str, int]: ...
    async def member_role(self, group_id: str, user_id: str) -> int | None:
        """The user's role in the group, None when not a member (one row, not the whole list)."""
        ...

    async def create_group(
        self, group: GroupRow, members: dict[str, int], tip: NewMessage, server_time: int
    ) -> Message: ...
    async def add_members(
        self, group_id: str, members: dict[str, int], tip: NewMessage, server_time: int
    ) -> Message: ...
    async def remove_members(
        self, group_id: str, user_ids: list[str], tip: NewMessage, server_time: int
    ) -> Message: ...
    async def dismiss_group(self, group_id: str, tip: NewMessage, server_time: int) -> Message: ...
    async def joined_groups(self, user_id: str) -> list[GroupInfo]: ...
