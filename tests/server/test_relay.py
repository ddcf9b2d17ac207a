"""The relay between bus and sessions: per-channel order, gap filling from the store, group
members resolved per node and invalidated in channel order."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest

from opentim.protocol import ConvType, Message, c2c_channel, group_channel
from opentim.server.bus.base import Envelope, Head
from opentim.server.bus.local import LocalBus
from opentim.server.gateway.relay import Relay

C = c2c_channel("a", "b")
G = group_channel("g")


class FakeStore:
    """The two reads the relay makes, counted (it is its own messages and groups repository)."""

    def __init__(self) -> None:
        self.stored: dict[str, list[Message]] = {}
        self.members: dict[str, dict[str, int]] = {}
        self.messages = self.groups = self
        self.reads: list[tuple[str, int, int]] = []
        self.member_reads = 0

    async def messages_between(self, channel_id: str, after: int, to: int) -> list[Message]:
        self.reads.append((channel_id, after, to))
        return [m for m in self.stored.get(channel_id, []) if after < m.seq <= to]

    async def get_members(self, group_id: str) -> dict[str, int]:
        self.member_reads += 1
        return dict(self.members.get(group_id, {}))


class FailingStore(FakeStore):
    """Its reads fail the first ``fail`` times each (a database that is away for a while)."""

    def __init__(self, fail: int) -> None:
        super().__init__()
        self.fail_reads = fail
        self.fail_members = fail

    async def messages_between(self, channel_id: str, after: int, to: int) -> list[Message]:
        if self.fail_reads:
            self.fail_reads -= 1
            raise ConnectionError("store away")
        return await super().messages_between(channel_id, after, to)

    async def get_members(self, group_id: str) -> dict[str, int]:
        if self.fail_members:
            self.fail_members -= 1
            raise ConnectionError("store away")
        return await super().get_members(group_id)


class LosingBus(LocalBus):
    """Loses everything this node publishes (as a bus that was away would)."""

    def publish(self, envelope: Envelope) -> None:
        pass


class Harness:
    def __init__(
        self,
        online: list[str],
        grace: float = 0.02,
        bus: LocalBus | None = None,
        store: FakeStore | None = None,
    ) -> None:
        self.store = store or FakeStore()
        self.online: dict[str, object] = dict.fromkeys(online, object())
        self.relay = Relay(
            bus or LocalBus(),
            self.store,  # type: ignore[arg-type]
            self.online,
            grace=grace,
            retry=(0.001, 0.01),
        )
        self.got: list[Envelope] = []
        self._changed = asyncio.Event()

    async def start(self) -> None:
        await self.relay.start(self.deliver)

    def deliver(self, env: Envelope) -> None:
        self.got.append(env)
        self._changed.set()

    async def until(self, n: int) -> None:
        async with asyncio.timeout(5):
            while len(self.got) < n:
                await self._changed.wait()
                self._changed.clear()

    def seqs(self) -> list[int]:
        return [msgspec.json.decode(e.frame)["body"]["msg"]["seq"] for e in self.got]


def c2c(seq: int, **kw: Any) -> Envelope:
    frame = msgspec.json.encode({"body": {"msg": {"seq": seq}}})
    return Envelope(frame=frame, users=["a", "b"], channel_id=C, seq=seq, **kw)


def grp(seq: int, **kw: Any) -> Envelope:
    frame = msgspec.json.encode({"body": {"msg": {"seq": seq}}})
    return Envelope(frame=frame, group_id="g", channel_id=G, seq=seq, **kw)


def stored(seq: int, channel: str = C) -> Message:
    if channel == C:
        return Message(
            msg_id=f"m{seq}", conv_type=ConvType.C2C, sender="a", receiver="b", seq=seq, elems=[]
        )
    return Message(
        msg_id=f"m{seq}", conv_type=ConvType.GROUP, sender="a", receiver="g", seq=seq, elems=[]
    )


@pytest.fixture
async def h() -> Harness:
    harness = Harness(["b"])
    await harness.start()
    return harness


async def test_in_order_envelopes_pass_at_once_and_repeats_are_dropped(h: Harness) -> None:
    for seq in (5, 6, 6, 7, 5):
        h.relay.receive(c2c(seq))
    assert h.seqs() == [5, 6, 7]  # synchronously: no task, no store
    assert h.store.reads == []


async def test_a_late_envelope_within_the_grace_is_put_back_in_order(h: Harness) -> None:
    h.relay.receive(c2c(1))
    h.relay.receive(c2c(3))
    h.relay.receive(c2c(4))
    assert h.seqs() == [1]
    h.relay.receive(c2c(2))
    await h.until(4)
    assert h.seqs() == [1, 2, 3, 4]
    assert h.store.reads == []


async def test_a_gap_the_bus_never_fills_is_read_from_the_store() -> None:
    h = Harness(["b"], bus=LosingBus())
    await h.start()
    h.store.stored[C] = [stored(s) for s in range(1, 6)]
    h.relay.publish(c2c(2, skip_conn="node-7"))  # this node sent 2 (from node-7); lost
    h.relay.receive(c2c(1))
    h.relay.receive(c2c(4))
    await h.until(4)
    assert h.store.reads == [(C, 1, 3)]
    assert [e.seq for e in h.got] == [1, 2, 3, 4]
    assert [e.skip_conn for e in h.got] == ["", "node-7", "", ""]  # no echo to the sender
    assert h.relay.filled == 2
    h.relay.receive(c2c(3))  # the lost one turns up after all
    assert len(h.got) == 4


async def test_channels_with_nobody_here_are_not_followed(h: Harness) -> None:
    env = Envelope(frame=b"x", users=["x", "y"], channel_id=c2c_channel("x", "y"), seq=9)
    h.relay.receive(env)
    h.relay.receive(Envelope(frame=b"x", users=["x", "y"], channel_id=env.channel_id, seq=12))
    await asyncio.sleep(0)
    assert h.got == []
    assert h.store.reads == []


async def test_group_envelopes_reach_members_online_here_and_tips_refresh_the_list() -> None:
    h = Harness(["b", "c", "z"])
    await h.start()
    h.store.members["g"] = {"a": 400, "b": 200}
    h.relay.receive(grp(1))
    await h.until(1)
    h.relay.receive(grp(2))  # cached list: synchronous
    assert [e.users for e in h.got] == [["b"], ["b"]]
    assert h.store.member_reads == 1
    h.store.members["g"]["c"] = 200
    h.relay.receive(grp(3, members_changed=True, extra_users=[]))
    h.relay.receive(grp(4))
    await h.until(4)
    assert [sorted(e.users) for e in h.got[2:]] == [["b", "c"], ["b", "c"]]
    assert h.store.member_reads == 2
    assert all(not e.group_id for e in h.got)  # resolved before the registry sees them


async def test_a_lost_membership_tip_filled_from_the_store_refreshes_the_list() -> None:
    h = Harness(["b", "c"])
    await h.start()
    h.store.members["g"] = {"b": 200}
    h.relay.receive(grp(1))
    await h.until(1)
    h.store.members["g"]["c"] = 200
    tip = stored(2, G)
    tip.is_tips = True
    h.store.stored[G] = [tip]
    h.relay.receive(grp(3))  # 2, the tip adding c, was lost on the bus
    await h.until(3)
    assert [sorted(e.users) for e in h.got] == [["b"], ["b", "c"], ["b", "c"]]


async def test_pushes_without_a_position_pass_and_profile_changes_are_announced(
    h: Harness,
) -> None:
    forgotten: list[str] = []
    h.relay.on_profile_changed = forgotten.append
    h.relay.receive(Envelope(frame=b"conv", users=["b"]))
    h.relay.receive(Envelope(profile_changed="a"))
    assert [e.frame for e in h.got] == [b"conv"]
    assert forgotten == ["a"]


async def test_a_failing_store_read_is_retried_and_no_message_is_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = FailingStore(fail=3)
    h = Harness(["b"], store=store)
    await h.start()
    store.stored[C] = [stored(s) for s in range(1, 8)]
    h.relay.receive(c2c(1))
    h.relay.receive(c2c(4))  # 2 and 3 are lost: read from the store, which fails 3 times
    h.relay.receive(c2c(5))
    await h.until(5)
    h.relay.receive(c2c(6))
    await h.until(6)
    assert [e.seq for e in h.got] == [1, 2, 3, 4, 5, 6]
    assert store.reads == [(C, 1, 3)]  # the successful read (failed ones are not recorded)
    assert any("retrying" in r.getMessage() for r in caplog.records)


async def test_a_failing_member_read_keeps_the_group_queue_in_order() -> None:
    store = FailingStore(fail=4)
    h = Harness(["b"], store=store)
    await h.start()
    store.members["g"] = {"a": 400, "b": 200}
    for seq in (1, 2, 3):
        h.relay.receive(grp(seq))
    await h.until(3)
    assert h.seqs() == [1, 2, 3]
    assert [e.users for e in h.got] == [["b"], ["b"], ["b"]]


async def test_a_handler_failing_on_one_envelope_does_not_drop_the_rest() -> None:
    h = Harness(["b"], bus=LosingBus())
    await h.start()
    h.store.stored[C] = [stored(s) for s in range(1, 6)]
    deliver = h.deliver
    failed: list[int] = []

    def flaky(env: Envelope) -> None:
        if env.seq == 2 and not failed:
            failed.append(env.seq)
            raise RuntimeError("boom")
        deliver(env)

    h.relay._deliver = flaky
    h.relay.receive(c2c(1))
    h.relay.receive(c2c(4))
    h.relay.receive(c2c(5))
    await h.until(4)
    assert failed == [2]
    assert [e.seq for e in h.got] == [1, 3, 4, 5]


async def test_a_heartbeat_head_past_what_was_delivered_is_read_from_the_store() -> None:
    h = Harness(["b"])
    await h.start()
    h.store.stored[C] = [stored(s) for s in range(1, 4)]
    h.relay.receive(c2c(1))
    heads = [Head(C, 3, ["a", "b"]), Head(c2c_channel("x", "y"), 9, ["x", "y"])]
    h.relay.receive(Envelope(heads=heads))  # 2 and 3 were lost, nothing came after them
    await h.until(3)
    assert [e.seq for e in h.got] == [1, 2, 3]
    h.relay.receive(Envelope(heads=heads))  # a repeated beat: nothing more
    h.relay.receive(c2c(3))
    await asyncio.sleep(0)
    assert len(h.got) == 3
    assert h.store.reads == [(C, 1, 3)]  # at once: no grace for what the heartbeat says


async def test_the_heartbeat_repeats_recent_heads_and_stops_when_idle() -> None:
    published: list[Envelope] = []
    beat = asyncio.Event()

    class Recording(LocalBus):
        def publish(self, envelope: Envelope) -> None:
            published.append(envelope)
            if envelope.heads:
                beat.set()

    relay = Relay(Recording(), FakeStore(), {}, heartbeat=0.001)  # type: ignore[arg-type]
    await relay.start(lambda env: None)
    try:
        relay.publish(c2c(1))
        relay.publish(c2c(2))
        async with asyncio.timeout(5):
            while sum(1 for e in published if e.heads) < 3:
                beat.clear()
                await beat.wait()
        beats = [e.heads for e in published if e.heads]
        assert beats == [[Head(C, 2, ["a", "b"])]] * 3
        assert relay._heads == {}  # idle from now on: nothing left to announce
        assert [e.seq for e in published if e.channel_id] == [1, 2]  # one publish per message
    finally:
        await relay.close()
