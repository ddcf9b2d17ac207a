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
    draft_time: int = 0
    """When the draft was set or cancelled; an edit older than the stored one is ignored."""
    read_up_to: int | None = None
    """Read up to this seq (0 = the newest)."""
    delete: bool = False
    create: bool = False
    keep_history: bool = False
    """With ``delete``: the messages stay readable (TIMConvDeleteConversationList, clear false)."""
    clear_history: bool = False
    """Hide the history so far for this user and read it, keeping the conversation."""
    mark_set: int = 0
    mark_clear: int = 0
    custom_data: str | None = None
    recv_opt: int | None = None
    ensure: bool = False
    """Create the row hidden when the user has none (a receive option set before any message)."""


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


class Store(Protocol):
    """Durable state of one opentim deployment."""

    db_id: int
    """The database's identity (store/identity.py), known once ``open`` returned."""

    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def clock_now(self) -> int:
        """The server-wide clock: no committed change has a later position."""
        ...

    async def rotate_database_id(self) -> int:
        """Give the database a new identity, as after restoring a backup; returns it."""
        ...

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

    async def messages_after(
        self, user_id: str, conv_type: int, conv_id: str, after_seq: int, count: int
    ) -> list[Message]:
        """Messages of the user's conversation after ``after_seq``, oldest first."""
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
    async def change_conversations(
        self, user_id: str, keys: list[Key], change: ConvChange
    ) -> list[Conversation | None]:
        """Apply one change to several conversations in one transaction; each one's snapshot
        after it (None where the user has no such conversation), in the order of ``keys``."""
        ...

    async def count_conversations(
        self, user_id: str, *, marked: bool = False, custom_data: bool = False
    ) -> int:
        """How many of the user's conversations carry a mark (or custom data)."""
        ...

    async def recv_opts(self, user_id: str, conv_type: int, conv_ids: list[str]) -> dict[str, int]:
        """Receive options of the user's conversations among ``conv_ids`` (absent: none set)."""
        ...

    # conversation groups (folders)
    async def conv_groups(self, user_id: str) -> list[str]:
        """The user's conversation group names, in creation order."""
        ...

    async def create_conv_group(
        self, user_id: str, name: str, keys: list[Key], now: int
    ) -> list[Conversation]:
        """Create a group holding ``keys`` (those the user has); raise DuplicateConvGroupError
        when the name is taken. Returns the snapshots of the conversations added."""
        ...

    async def delete_conv_group(self, user_id: str, name: str) -> list[Conversation] | None:
        """Delete the group; the snapshots of its conversations, or None when it does not exist."""
        ...

    async def rename_conv_group(
        self, user_id: str, name: str, new_name: str
    ) -> list[Conversation] | None:
        """Rename; raise DuplicateConvGroupError when ``new_name`` is taken; None when ``name``
        does not exist. Returns the snapshots of its conversations."""
        ...

    async def add_to_conv_group(
        self, user_id: str, name: str, keys: list[Key], max_items: int
    ) -> tuple[list[Conversation], list[Conversation]] | None:
        """Add conversations (already members are left as they are); past ``max_items`` the
        earliest added are evicted. Returns (added, evicted) snapshots, None for no group."""
        ...

    async def remove_from_conv_group(
        self, user_id: str, name: str, keys: list[Key]
    ) -> list[Conversation] | None:
        """Remove conversations from the group; the snapshots of those that were in it."""
        ...

    # message changes
    async def get_message(self, channel_id: str, seq: int) -> Message | None: ...
    async def revoke_message(
        self, channel_id: str, seq: int, revoker: str, reason: str
    ) -> Revoked | None:
        """Replace the message's elements with the revoke marker; its seq and count stay."""
        ...

    async def delete_messages(
        self, user_id: str, conv_type: int, conv_id: str, seqs: list[int]
    ) -> Conversation | None:
        """Hide messages of a conversation from ``user_id`` only; the conversation after it."""
        ...

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
