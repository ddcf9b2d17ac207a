"""The asyncio SDK: ``Client`` with conversations, messages and groups managers, and events."""

from __future__ import annotations

from opentim.protocol import (
    AtInfo,
    Conversation,
    ConvType,
    Draft,
    GroupInfo,
    GroupType,
    Mark,
    MemberResult,
    Message,
    Profile,
    RecvOpt,
    text_elem,
)
from opentim.protocol.ops import ConvResult, OutMessage

from .client import Client
from .events import (
    ConvEvent,
    ConvGroupEvent,
    ConvGroupEventKind,
    Events,
    LoginStatus,
    NetworkStatus,
    Receipt,
)
from .exceptions import ConnectionLostError, SdkError
from .filters import ConvFilter

__all__ = [
    "AtInfo",
    "Client",
    "ConnectionLostError",
    "ConvEvent",
    "ConvFilter",
    "ConvGroupEvent",
    "ConvGroupEventKind",
    "ConvResult",
    "ConvType",
    "Conversation",
    "Draft",
    "Events",
    "GroupInfo",
    "GroupType",
    "LoginStatus",
    "Mark",
    "MemberResult",
    "Message",
    "NetworkStatus",
    "OutMessage",
    "Profile",
    "Receipt",
    "RecvOpt",
    "SdkError",
    "text_elem",
]
