"""LocalBus: the single-node default, delivering in-process."""

from __future__ import annotations

from .base import Envelope, Handler


class LocalBus:
    """Hands each envelope straight to this node's handler."""

    def __init__(self) -> None:
        self._handler: Handler | None = None

    async def start(self, handler: Handler) -> None:
        self._handler = handler

    def publish(self, envelope: Envelope) -> None:
        if self._handler is not None:
            self._handler(envelope)

    def ensure_up(self) -> None:
        """Always up: nothing between the publisher and the handler."""

    async def close(self) -> None:
        self._handler = None
