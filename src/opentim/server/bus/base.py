"""The Bus interface: carry pre-encoded pushes to every node holding a recipient's session.

A bus carries **positions plus a compact payload** (STYLE §2.3): a message push names its
``channel_id`` and ``seq``, so a receiving node can tell a gap and read what is missing from the
store; the bus is never asked for history. Every node receives every envelope once (one publish
per message, however many members a group has; DESIGN §4) and keeps what concerns its sessions.

Backends: ``local.py`` (in-process, the single-node default), ``redis.py`` (Redis pub/sub) and
``nats.py`` (NATS core subjects). The ``Outbox`` here is what the networked two share: publishing
never blocks the caller, and what could not be sent while the service was away is sent, in
order, once it is back (up to a bound).
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

import msgspec

from opentim.protocol import ConvType, ErrorCode, Message, OpenTimError, channel_of, push_frame
from opentim.protocol.ops import MsgPush

log = logging.getLogger(__name__)


class Head(msgspec.Struct, array_like=True, omit_defaults=True):
    """A channel's newest seq written by the node that announces it, and whom it concerns."""

    channel_id: str
    seq: int
    users: list[str] = []
    group_id: str = ""


class Envelope(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A push for some users. ``group_id`` means every member, resolved by the receiving node
    (one publish per group message, not one per member; DESIGN §4). ``skip_conn`` is the
    connection that caused it and already has the result."""

    frame: bytes = b""
    users: list[str] = []
    group_id: str = ""
    extra_users: list[str] = []
    """Users to reach besides the group's members (members who were just removed)."""
    skip_conn: str = ""
    channel_id: str = ""
    """With ``seq``: the position of the message this push carries (empty for other pushes)."""
    seq: int = 0
    members_changed: bool = False
    """A membership tip: nodes drop the member list they hold for ``group_id``."""
    profile_changed: str = ""
    """This user's profile changed: nodes drop the copy they hold."""
    blacklist_changed: str = ""
    """This user's blacklist changed: nodes drop the copy they hold (services/blocks.py)."""
    heads: list[Head] = []
    """A position heartbeat: channels the sending node wrote recently and their newest seq, so a
    node that lost a push (pub/sub is at-most-once) fills it from the store (gateway/relay.py)."""


Handler = Callable[[Envelope], None]


def message_envelope(
    msg: Message, skip_conn: str = "", extra_users: list[str] | None = None
) -> Envelope:
    """The push of a new message, as the services publish it and as a relay filling a gap from
    the store rebuilds it: its position (channel, seq) and its recipients, the two users of a
    C2C conversation (one, to oneself) or the group's members (resolved by each node), plus
    ``extra_users`` (members a membership tip removed)."""
    frame = push_frame("msg", MsgPush(msg=msg))
    channel_id = channel_of(msg.sender, msg.conv_type, msg.receiver)
    if msg.conv_type == ConvType.C2C:
        users = [msg.sender] if msg.sender == msg.receiver else [msg.sender, msg.receiver]
        return Envelope(
            frame=frame, users=users, skip_conn=skip_conn, channel_id=channel_id, seq=msg.seq
        )
    return Envelope(
        frame=frame,
        group_id=msg.receiver,
        extra_users=extra_users or [],
        skip_conn=skip_conn,
        channel_id=channel_id,
        seq=msg.seq,
        members_changed=msg.is_tips,
    )


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Envelope)


def encode_envelope(envelope: Envelope) -> bytes:
    return _encoder.encode(envelope)


def decode_envelope(data: bytes) -> Envelope:
    """Raises:
    msgspec.DecodeError: not an envelope (a foreign publisher on our channel).
    """
    return _decoder.decode(data)


class BusUnavailableError(OpenTimError):
    """The bus cannot carry pushes now (its service is unreachable); the request that needed it
    was not carried out and may be retried. An ``OpenTimError`` (the tree is drawn in
    opentim.protocol.exceptions) with code 20005."""

    show_code = False

    def __init__(self, desc: str) -> None:
        super().__init__(ErrorCode.ERR_SVR_MSG_INTERNAL_ERROR1, desc)


class Bus(Protocol):
    """Publish to all nodes; every node's handler sees every envelope."""

    async def start(self, handler: Handler) -> None:
        """Connect and subscribe; raise BusUnavailableError (naming the URL) if that fails."""
        ...

    def publish(self, envelope: Envelope) -> None:
        """Queue ``envelope`` for every node; never blocks the caller."""
        ...

    def ensure_up(self) -> None:
        """Raise BusUnavailableError while the bus cannot deliver (a lost connection)."""
        ...

    async def close(self) -> None: ...


class Outbox:
    """An ordered, bounded queue of encoded envelopes and the task that sends them.

    ``send`` sends a batch (in order) or raises; a failed batch stays at the head and is retried
    after a backoff (doubling from ``backoff`` to ``backoff_max``) until it goes through or the
    outbox is closed. Past ``limit`` queued envelopes new ones are dropped, with a warning: clients
    then catch up through sync (and nodes through gap filling), since every message is in the
    store before it is queued.
    """

    def __init__(
        self,
        send: Callable[[list[bytes]], Awaitable[None]],
        name: str,
        *,
        limit: int = 100_000,
        batch: int = 512,
        backoff: float = 0.05,
        backoff_max: float = 2.0,
    ) -> None:
        self._send = send
        self.name = name
        self.limit = limit
        self.batch = batch
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.failing = False
        self._queue: collections.deque[bytes] = collections.deque()
        self._wake = asyncio.Event()
        self._drained = asyncio.Event()
        self._drained.set()
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"opentim-{self.name}-outbox")

    def put(self, data: bytes) -> None:
        queue = self._queue
        if len(queue) >= self.limit:
            self.dropped += 1
            if self.dropped % 1000 == 1:
                log.warning("%s: outbox full, %d pushes dropped so far", self.name, self.dropped)
            return
        queue.append(data)
        self._drained.clear()
        self._wake.set()

    async def _run(self) -> None:
        delay = self.backoff
        queue = self._queue
        while True:
            if not queue:
                self._drained.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            n = min(len(queue), self.batch)
            chunk = [queue[i] for i in range(n)]
            try:
                await self._send(chunk)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not self.failing:
                    log.warning("%s: publishing failed (%s); retrying", self.name, exc)
                self.failing = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.backoff_max)
                continue
            if self.failing:
                log.warning("%s: publishing again", self.name)
            self.failing = False
            delay = self.backoff
            for _ in range(min(n, len(queue))):
                queue.popleft()

    async def close(self, flush_timeout: float = 2.0) -> None:
        """Send what is queued (waiting at most ``flush_timeout``), then stop."""
        if self._task is None:
            return
        try:
            if not self.failing:
                async with asyncio.timeout(flush_timeout):
                    await self._drained.wait()
        except TimeoutError:
            log.warning("%s: %d pushes not sent at close", self.name, len(self._queue))
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None
