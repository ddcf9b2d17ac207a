"""The client's session core, sans I/O: request ids and answers, the push table, sync and gap
filling, and the connection life as one state table. No asyncio, no sockets, no files here
(import-linter holds it); ``opentim.sdk.client.Client`` drives it."""

from __future__ import annotations

from .link import Effect, Link, LinkAction, LinkEvent, LinkState, LoginStatus
from .requests import Answer, Requests
from .session import (
    Action,
    ClientSession,
    ExtensionsChanged,
    FriendChanged,
    GroupChanged,
    GroupReported,
    PinChanged,
    ReactionChanged,
    ReadReceipt,
    Revoked,
    Updated,
    UsersChanged,
)
from .sync import (
    Ask,
    ConvList,
    Deliver,
    DropCached,
    ReadCached,
    Save,
    SyncCore,
    SyncDone,
    SyncStarted,
)

__all__ = [
    "Action",
    "Answer",
    "Ask",
    "ClientSession",
    "ConvList",
    "Deliver",
    "DropCached",
    "Effect",
    "ExtensionsChanged",
    "FriendChanged",
    "GroupChanged",
    "GroupReported",
    "Link",
    "LinkAction",
    "LinkEvent",
    "LinkState",
    "LoginStatus",
    "PinChanged",
    "ReactionChanged",
    "ReadCached",
    "ReadReceipt",
    "Requests",
    "Revoked",
    "Save",
    "SyncCore",
    "SyncDone",
    "SyncStarted",
    "Updated",
    "UsersChanged",
]
