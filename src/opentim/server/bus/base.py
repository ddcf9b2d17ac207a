"""The Bus interface: carry pre-encoded pushes to every node holding a recipient's session."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import msgspec


class Envelope(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A push for some users. ``group_id`` means every member, resolved by the receiving node
    (one publish per group message, not one per member; DESIGN §4). ``skip_conn`` is the
    connection that caused it and already has the result."""

    frame: bytes
    users: list[str] = []
    group_id: str = ""
    extra_users: list[str] = []
    """Users to reach besides the group's members (members who were just removed)."""
    skip_conn: str = ""


Handler = Callable[[Envelope], None]


class Bus(Protocol):
    """Publish to all nodes; every node's handler sees every envelope."""

    async def start(self, handler: Handler) -> None: ...
    def publish(self, envelope: Envelope) -> None:
        """Queue ``envelope`` for every node; never blocks the caller."""
        ...

    async def close(self) -> None: ...
