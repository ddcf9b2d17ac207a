"""Relay: between the bus and this node's sessions. Each channel's pushes in seq order, gaps
filled from the store, group members resolved on this node (DESIGN §4, STYLE §2.3).

With several nodes, messages of one channel are committed by different nodes and reach a node
through the bus in any order, or not at all (pub/sub is at-most-once, and a node may have been
disconnected). The relay keeps, per channel, the last seq it delivered ("unknown before" for a
channel it has not seen: a client catches up on what came before by sync):

- the next seq is delivered at once (the common case, with no task and no await);
- a seq below it was delivered already and is dropped;
- a seq past a gap waits a moment (``grace``) for the missing envelopes, which are usually just
  behind on the bus, and then reads the missing messages from the store, which has them: a seq is
  taken only after the one below it committed (postgres.py), so a gap is always fillable.

Pub/sub loses a push now and then with no later message in its channel to reveal the gap. So
each node also publishes a *position heartbeat* every ``heartbeat`` seconds while it writes: the
newest seq of each channel it wrote in the last few beats (one envelope per beat, however many
messages; nothing more per message). A node whose sessions follow such a channel and that has
delivered less reads the rest from the store, like any gap.

A store read that fails (the database is away) is retried with backoff until it works: the
channel waits, in order, and nothing is skipped. A handler that raises on one envelope is logged
and the channel goes on with the next; the queue is never dropped.

A group envelope names the group, not its members. The relay keeps each group's member list,
read from the store the first time and dropped when a membership tip of that group passes (in
the channel's order, so later messages of the group see the change). Only members with a session
here are pushed to. The relay also stands in front of the bus for the services (it is a Bus), to
remember which connection sent each of this node's messages: a message filled from the store is
then still not echoed to the connection that sent it.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from ..bus.base import Bus, Envelope, Handler, Head, message_envelope
from ..store.base import Store

log = logging.getLogger(__name__)

T = TypeVar("T")

HEAD_BEATS = 3
"""How many heartbeats repeat a channel's head (one lost heartbeat loses nothing)."""
HEADS_PER_ENVELOPE = 1000


class _Channel:
    """What this node knows of one channel: the last seq delivered and what waits behind a gap."""

    __slots__ = ("busy", "last", "pending", "wake")

    def __init__(self) -> None:
        self.last = 0
        self.pending: list[tuple[int, int, Envelope]] = []
        self.busy = False
        self.wake = asyncio.Event()


class Relay:
    """The bus as the services see it, and the bus's handler on this node.

    Args:
        bus: the backend (in-process, Redis, NATS).
        store: where gaps are filled from and member lists read.
        online: user id → anything, for the users with a session here (the registry's map).
        grace: seconds a gap may wait for the bus before the store is read.
        max_channels: channels remembered; past it the idle ones are forgotten (a forgotten
            channel starts again from whatever seq comes next).
    """

    def __init__(
        self,
        bus: Bus,
        store: Store,
        online: Mapping[str, object],
        *,
        grace: float = 0.05,
        max_channels: int = 200_000,
        max_groups: int = 10_000,
        retry: tuple[float, float] = (0.05, 2.0),
        heartbeat: float | None = None,
    ) -> None:
        self.bus = bus
        self.store = store
        self.online = online
        self.grace = grace
        self.max_channels = max_channels
        self.max_groups = max_groups
        self.retry = retry
        """First and longest wait between attempts to read the store, in seconds."""
        self.heartbeat = heartbeat
        """Seconds between position heartbeats (None: no heartbeat, for a bus that loses
        nothing)."""
        self._heads: dict[str, tuple[Head, int]] = {}
        """Channels this node wrote recently: the newest head and the beats left to repeat it."""
        self._beater: asyncio.Task[None] | None = None
        self.on_profile_changed: Callable[[str], None] = lambda user_id: None
        self.on_blacklist_changed: Callable[[str], None] = lambda user_id: None
        self.filled = 0
        """Messages this node read from the store to fill gaps (for tests and metrics)."""
        self._deliver: Handler = lambda env: None
        self._channels: dict[str, _Channel] = {}
        self._members: dict[str, dict[str, int]] = {}
        self._senders: dict[tuple[str, int], str] = {}
        self._order = itertools.count()
        self._tasks: set[asyncio.Task[None]] = set()

    # --- the Bus, as the services use it ----------------------------------------------------
    async def start(self, handler: Handler) -> None:
        """Deliver through ``handler`` (the session registry) what the bus brings."""
        self._deliver = handler
        await self.bus.start(self.receive)
        if self.heartbeat is not None:
            self._beater = asyncio.create_task(self._beat(self.heartbeat), name="opentim-heads")

    def publish(self, envelope: Envelope) -> None:
        if envelope.channel_id and envelope.skip_conn:
            senders = self._senders
            if len(senders) >= 10_000:
                del senders[next(iter(senders))]
            senders[(envelope.channel_id, envelope.seq)] = envelope.skip_conn
        if envelope.channel_id and self.heartbeat is not None:
            head = Head(envelope.channel_id, envelope.seq, envelope.users, envelope.group_id)
            self._heads[envelope.channel_id] = (head, HEAD_BEATS)
        self.bus.publish(envelope)

    async def _beat(self, interval: float) -> None:
        """Publish the heads written lately, once per interval while there are any."""
        while True:
            await asyncio.sleep(interval)  # the heartbeat's period, not a race workaround
            if not self._heads:
                continue
            heads = self._heads
            beat = [head for head, _ in heads.values()]
            self._heads = {c: (h, n - 1) for c, (h, n) in heads.items() if n > 1}
            for i in range(0, len(beat), HEADS_PER_ENVELOPE):
                self.bus.publish(Envelope(heads=beat[i : i + HEADS_PER_ENVELOPE]))

    def ensure_up(self) -> None:
        self.bus.ensure_up()

    async def close(self) -> None:
        if self._beater is not None:
            self._beater.cancel()
            await asyncio.gather(self._beater, return_exceptions=True)
            self._beater = None
        await self.bus.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # --- receiving --------------------------------------------------------------------------
    def receive(self, env: Envelope) -> None:
        """The bus handler: deliver now, or queue behind the channel's gap."""
        if env.profile_changed:
            self.on_profile_changed(env.profile_changed)
        if env.blacklist_changed:
            self.on_blacklist_changed(env.blacklist_changed)
        for head in env.heads:
            self._on_head(head)
        if not env.channel_id:
            if env.frame:
                self._deliver(env)
            return
        channels = self._channels
        ch = channels.get(env.channel_id)
        if ch is None:
            if not self._concerns_us(env):
                return  # nobody here: nothing to order (a later login syncs from the store)
            if len(channels) >= self.max_channels:
                self._forget_idle()
            ch = channels[env.channel_id] = _Channel()
        if not ch.busy:
            if ch.last and env.seq <= ch.last:
                return
            if not ch.last or env.seq == ch.last + 1:
                members = self._cached_members(env)
                if members is not None:
                    ch.last = env.seq
                    self._send(env, members)
                    return
        self._queue(env.channel_id, ch, env)

    def _on_head(self, head: Head) -> None:
        """A channel's newest seq, from its writer: queue a marker if less was delivered here
        (the marker carries no push: draining it reads what is missing from the store)."""
        ch = self._channels.get(head.channel_id)
        marker = Envelope(
            channel_id=head.channel_id, seq=head.seq, users=head.users, group_id=head.group_id
        )
        if ch is None:
            if not self._concerns_us(marker):
                return
            if len(self._channels) >= self.max_channels:
                self._forget_idle()
            ch = self._channels[head.channel_id] = _Channel()
            ch.last = head.seq - 1  # unknown before: the devices fill older gaps themselves
        if ch.last >= head.seq or any(seq >= head.seq for seq, _, _ in ch.pending):
            return
        self._queue(head.channel_id, ch, marker)

    def _queue(self, channel_id: str, ch: _Channel, env: Envelope) -> None:
        heapq.heappush(ch.pending, (env.seq, next(self._order), env))
        ch.wake.set()
        if not ch.busy:
            ch.busy = True
            task = asyncio.ensure_future(self._drain(channel_id, ch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _concerns_us(self, env: Envelope) -> bool:
        online = self.online
        if not online:
            return False
        if env.group_id:
            # Always followed: a member list is only trusted while its channel is followed
            # (a lost membership tip then shows as a gap, and the gap is filled from the store).
            return True
        return any(u in online for u in env.users) or any(u in online for u in env.extra_users)

    def _cached_members(self, env: Envelope) -> Mapping[str, int] | None:
        """``{}`` for a non-group envelope; the group's members if known and still valid."""
        if not env.group_id:
            return {}
        if env.members_changed:
            return None
        return self._members.get(env.group_id)

    async def _members_of(self, env: Envelope) -> Mapping[str, int]:
        if not env.group_id:
            return {}
        if env.members_changed:
            self._members.pop(env.group_id, None)
        members = self._members.get(env.group_id)
        if members is None:
            group_id = env.group_id
            members = await self._read(
                f"the members of {group_id}", lambda: self.store.groups.get_members(group_id)
            )
            if len(self._members) >= self.max_groups:
                self._members.clear()
            self._members[env.group_id] = members
        return members

    async def _drain(self, channel_id: str, ch: _Channel) -> None:
        """Deliver the channel's queued envelopes in seq order, filling gaps (one task per
        channel at a time)."""
        loop = asyncio.get_running_loop()
        deadline: float | None = None
        try:
            while ch.pending:
                seq, _, env = ch.pending[0]
                if ch.last and seq <= ch.last:
                    heapq.heappop(ch.pending)
                    continue
                if not env.frame:
                    # A heartbeat's marker: its writer published the push before the heartbeat,
                    # on the same connection, so it was lost: read it from the store now.
                    heapq.heappop(ch.pending)
                    await self._fill(channel_id, ch, seq)
                    deadline = None
                    continue
                if ch.last and seq > ch.last + 1:
                    if deadline is None:
                        deadline = loop.time() + self.grace
                    left = deadline - loop.time()
                    if left > 0:
                        ch.wake.clear()
                        try:
                            async with asyncio.timeout(left):
                                await ch.wake.wait()
                        except TimeoutError:
                            pass
                        continue
                    await self._fill(channel_id, ch, seq - 1)
                    deadline = None
                    continue
                members = await self._members_of(env)
                heapq.heappop(ch.pending)
                ch.last = seq
                self._send_logged(env, members)
                deadline = None
        finally:
            ch.busy = False

    async def _fill(self, channel_id: str, ch: _Channel, to_seq: int) -> None:
        """Deliver the channel's messages ``ch.last+1 … to_seq`` read from the store."""
        after = ch.last
        msgs = await self._read(
            f"{channel_id} up to {to_seq}",
            lambda: self.store.messages.messages_between(channel_id, after, to_seq),
        )
        for msg in msgs:
            if msg.seq <= ch.last:
                continue
            env = message_envelope(msg, self._senders.pop((channel_id, msg.seq), ""))
            members = await self._members_of(env)
            ch.last = msg.seq
            self.filled += 1
            self._send_logged(env, members)
        ch.last = max(ch.last, to_seq)

    async def _read(self, what: str, read: Callable[[], Awaitable[T]]) -> T:
        """``read()`` from the store, retried with backoff until it works (the caller's
        channel waits meanwhile; the relay's close cancels the wait)."""
        delay, longest = self.retry
        for attempt in itertools.count():
            try:
                result = await read()
            except Exception as exc:
                if attempt == 0:
                    log.warning("relay: cannot read %s (%s); retrying", what, exc)
                await asyncio.sleep(delay)  # backoff between attempts, not a race workaround
                delay = min(delay * 2, longest)
                continue
            if attempt:
                log.warning("relay: read %s after %d attempts", what, attempt + 1)
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    def _send_logged(self, env: Envelope, members: Mapping[str, int]) -> None:
        """Deliver one envelope; a failure is this envelope's alone (logged), not the queue's."""
        try:
            self._send(env, members)
        except Exception:
            log.exception("relay: delivering %s seq %d failed", env.channel_id, env.seq)

    def _send(self, env: Envelope, members: Mapping[str, int]) -> None:
        if not env.group_id:
            self._deliver(env)
            return
        online = self.online
        # Walk the smaller side: a huge group with few members online here costs little.
        if len(members) <= len(online):
            here = [u for u in members if u in online]
        else:
            here = [u for u in online if u in members]
        self._deliver(
            Envelope(
                frame=env.frame,
                users=here,
                extra_users=env.extra_users,
                skip_conn=env.skip_conn,
            )
        )

    def _forget_idle(self) -> None:
        for channel_id in [c for c, ch in self._channels.items() if not ch.busy]:
            del self._channels[channel_id]
        self._members.clear()
