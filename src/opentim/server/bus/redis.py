"""RedisBus: envelopes over one Redis pub/sub channel per deployment, ``<prefix>:push``.

Every node subscribes to the channel and publishes to it through a pipeline (one round trip
for whatever queued while the previous one was on the wire). Redis pub/sub is fire-and-forget:
a node that was disconnected misses what was published meanwhile, which is why envelopes carry
positions and a node fills gaps from the store (gateway/relay.py). A lost connection is retried
with backoff on both sides; meanwhile ``ensure_up`` refuses requests that need pushes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import msgspec
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from .base import BusUnavailableError, Envelope, Handler, Outbox, decode_envelope, encode_envelope

log = logging.getLogger(__name__)


class RedisBus:
    """The Bus on Redis pub/sub.

    Args:
        url: ``redis://host:port/db``.
        prefix: names this deployment's channel, so deployments (and tests) share a server.
    """

    def __init__(
        self,
        url: str,
        prefix: str = "opentim",
        *,
        connect_timeout: float = 5.0,
        backoff: float = 0.05,
        backoff_max: float = 2.0,
    ) -> None:
        self.url = url
        self.channel = f"{prefix}:push"
        self.connect_timeout = connect_timeout
        self.backoff = backoff
        self.backoff_max = backoff_max
        self._client: aioredis.Redis | None = None
        self._handler: Handler | None = None
        self._reader: asyncio.Task[None] | None = None
        self._subscribed = False
        self._outbox = Outbox(self._send, "redis", backoff=backoff, backoff_max=backoff_max)

    async def start(self, handler: Handler) -> None:
        self._handler = handler
        client = aioredis.Redis.from_url(
            self.url,
            socket_connect_timeout=self.connect_timeout,
            health_check_interval=10,
        )
        try:
            async with asyncio.timeout(self.connect_timeout):
                await client.ping()
                pubsub = await self._subscribe(client)
        except (RedisError, OSError, TimeoutError) as exc:
            await client.aclose()
            raise BusUnavailableError(f"Redis at {self.url} is unreachable: {exc}") from exc
        self._client = client
        self._reader = asyncio.create_task(self._read(client, pubsub), name="opentim-redis-read")
        self._outbox.start()

    async def _subscribe(self, client: aioredis.Redis) -> aioredis.client.PubSub:
        pubsub = client.pubsub()
        await pubsub.subscribe(self.channel)
        self._subscribed = True
        return pubsub

    async def _send(self, chunk: list[bytes]) -> None:
        client = self._client
        assert client is not None
        async with client.pipeline(transaction=False) as pipe:
            for data in chunk:
                pipe.publish(self.channel, data)
            await pipe.execute()

    async def _read(self, client: aioredis.Redis, pubsub: aioredis.client.PubSub | None) -> None:
        delay = self.backoff
        while True:
            try:
                if pubsub is None:
                    pubsub = await self._subscribe(client)
                    log.warning("redis: subscribed again to %s", self.channel)
                msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            except (RedisError, OSError) as exc:
                if self._subscribed:
                    log.warning("redis: subscription lost (%s); reconnecting", exc)
                self._subscribed = False
                if pubsub is not None:
                    with contextlib.suppress(RedisError, OSError):
                        await pubsub.aclose()  # type: ignore[no-untyped-call]
                    pubsub = None
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.backoff_max)
                continue
            delay = self.backoff
            if msg is not None:
                self._dispatch(msg["data"])

    def _dispatch(self, data: bytes) -> None:
        try:
            envelope = decode_envelope(data)
        except msgspec.DecodeError:
            log.warning("redis: a message on %s is not an envelope; dropped", self.channel)
            return
        assert self._handler is not None
        try:
            self._handler(envelope)
        except Exception:
            log.exception("redis: delivering an envelope failed")

    def publish(self, envelope: Envelope) -> None:
        self._outbox.put(encode_envelope(envelope))

    def ensure_up(self) -> None:
        if not self._subscribed or self._outbox.failing:
            raise BusUnavailableError(f"Redis at {self.url} is unreachable")

    async def close(self) -> None:
        await self._outbox.close()
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
            self._reader = None
        if self._client is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._client.aclose()
            self._client = None
        self._subscribed = False
