"""The asyncio SDK: ``Client`` with conversations, messages and groups managers, and events."""

from __future__ import annotations

from opentim.protocol import (
    Conversation,
    ConvType,
    Draft,
    GroupInfo,
    GroupType,
    MemberResult,
    Message,
    Profile,
)

from .client import Client
from .events import ConvEvent, Events, LoginStatus, NetworkStatus
from .exceptions import ConnectionLostError, SdkError

__all__ = [
    "Client",
    "ConnectionLostError",
    "ConvEvent",
    "ConvType",
    "Conversation",
    "Draft",
    "Events",
    "GroupInfo",
    "GroupType",
    "LoginStatus",
    "MemberResult",
    "Message",
    "NetworkStatus",
    "Profile",
    "SdkError",
]
