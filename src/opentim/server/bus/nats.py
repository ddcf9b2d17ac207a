"""NatsBus: envelopes over one NATS subject per deployment, ``<prefix>.push``.

Core NATS (no JetStream): at-most-once, in order per publisher, like Redis pub/sub; a node that
misses envelopes while disconnected fills the gap from the store (gateway/relay.py). nats-py
reconnects by itself; while it is disconnected ``ensure_up`` refuses requests that need pushes,
and the outbox keeps what was queued until the connection is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import msgspec
import nats
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.errors import Error as NatsError

from .base import BusUnavailableError, Envelope, Handler, Outbox, decode_envelope, encode_envelope

log = logging.getLogger(__name__)


class NatsBus:
    """The Bus on NATS.

    Args:
        url: ``nats://host:port``.
        prefix: names this deployment's subject, so deployments (and tests) share a server.
    """

    def __init__(
        self,
        url: str,
        prefix: str = "opentim",
        *,
        connect_timeout: float = 5.0,
        reconnect_wait: float = 0.25,
        backoff: float = 0.05,
        backoff_max: float = 2.0,
    ) -> None:
        self.url = url
        self.subject = f"{prefix}.push"
        self.connect_timeout = connect_timeout
        self.reconnect_wait = reconnect_wait
        self._nc: NatsClient | None = None
        self._closing = False
        self._handler: Handler | None = None
        self._outbox = Outbox(self._send, "nats", backoff=backoff, backoff_max=backoff_max)

    async def start(self, handler: Handler) -> None:
        self._handler = handler

        async def disconnected() -> None:
            if not self._closing:
                log.warning("nats: disconnected from %s; reconnecting", self.url)

        async def reconnected() -> None:
            log.warning("nats: reconnected to %s", self.url)

        last_error: list[Exception] = []

        async def error(exc: Exception) -> None:
            last_error[:] = [exc]
            log.debug("nats: %s", exc)

        try:
            async with asyncio.timeout(self.connect_timeout + 1):
                nc = await nats.connect(
                    self.url,
                    connect_timeout=max(1, round(self.connect_timeout)),
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=self.reconnect_wait,
                    disconnected_cb=disconnected,
                    reconnected_cb=reconnected,
                    error_cb=error,
                    name="opentim",
                )
        except (NatsError, OSError, TimeoutError) as exc:
            cause = last_error[0] if last_error else exc
            why = str(cause) or type(cause).__name__
            raise BusUnavailableError(f"NATS at {self.url} is unreachable: {why}") from exc
        self._nc = nc
        await nc.subscribe(self.subject, cb=self._on_msg)
        await nc.flush()
        self._outbox.start()

    async def _on_msg(self, msg: Msg) -> None:
        try:
            envelope = decode_envelope(msg.data)
        except msgspec.DecodeError:
            log.warning("nats: a message on %s is not an envelope; dropped", self.subject)
            return
        assert self._handler is not None
        try:
            self._handler(envelope)
        except Exception:
            log.exception("nats: delivering an envelope failed")

    async def _send(self, chunk: list[bytes]) -> None:
        nc = self._nc
        assert nc is not None
        if not nc.is_connected:
            raise ConnectionError("not connected")
        for data in chunk:
            await nc.publish(self.subject, data)

    def publish(self, envelope: Envelope) -> None:
        self._outbox.put(encode_envelope(envelope))

    def ensure_up(self) -> None:
        nc = self._nc
        if nc is None or not nc.is_connected or self._outbox.failing:
            raise BusUnavailableError(f"NATS at {self.url} is unreachable")

    async def close(self) -> None:
        self._closing = True
        await self._outbox.close()
        if self._nc is not None:
            with contextlib.suppress(NatsError, OSError, TimeoutError):
                async with asyncio.timeout(5):
                    await self._nc.drain()
            if not self._nc.is_closed:
                with contextlib.suppress(NatsError, OSError):
                    await self._nc.close()
            self._nc = None
