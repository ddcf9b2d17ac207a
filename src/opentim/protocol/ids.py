"""Identifiers: channel ids (server-side keys) and the reference's conversation-id strings."""

from __future__ import annotations

from .models import ConvType

C2C_PREFIX = "c2c_"
GROUP_PREFIX = "group_"


def c2c_channel(a: str, b: str) -> str:
    """The channel of a C2C pair, whichever side asks (length-prefixed: ids may hold ':')."""
    lo, hi = sorted((a, b))
    return f"c:{len(lo)}:{lo}:{hi}"


def group_channel(group_id: str) -> str:
    """The channel of a group."""
    return f"g:{group_id}"


def channel_of(user_id: str, conv_type: int, conv_id: str) -> str:
    """The channel behind ``user_id``'s conversation ``(conv_type, conv_id)``."""
    return c2c_channel(user_id, conv_id) if conv_type == ConvType.C2C else group_channel(conv_id)


def conversation_id(conv_type: int, conv_id: str) -> str:
    """``c2c_<user>`` / ``group_<group>``, as the reference's batch functions take them."""
    return (C2C_PREFIX if conv_type == ConvType.C2C else GROUP_PREFIX) + conv_id


def parse_conversation_id(value: str) -> tuple[ConvType, str] | None:
    """Split ``c2c_<user>`` / ``group_<group>``; None when it is neither."""
    if value.startswith(C2C_PREFIX) and len(value) > len(C2C_PREFIX):
        return ConvType.C2C, value[len(C2C_PREFIX) :]
    if value.startswith(GROUP_PREFIX) and len(value) > len(GROUP_PREFIX):
        return ConvType.GROUP, value[len(GROUP_PREFIX) :]
    return None


def conv_of_message(conv_type: int, sender: str, receiver: str, me: str) -> str:
    """The conversation id a message (by its sender and receiver) belongs to, for user ``me``:
    the group, or the other user of a C2C message."""
    if conv_type != ConvType.C2C or sender == me:
        return receiver
    return sender
