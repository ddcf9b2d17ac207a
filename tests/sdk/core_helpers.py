"""Helpers for the session core's unit tests: a conversation list, messages and snapshots, and a
fake server that answers the core's requests from its own messages."""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from opentim.protocol import Conversation, ConvType, Message
from opentim.protocol.cursors import FULL, INCREMENTAL, SyncToken, encode_token
from opentim.protocol.ops import (
    CatchUpReq,
    ConvGetReq,
    ConvsRes,
    HistoryReq,
    HistoryRes,
)
from opentim.sdk.core import Ask, Deliver, ReadCached, SyncCore
from opentim.sdk.core.sync import SyncAction

Key = tuple[int, str]
ME = "me"
C2C, GROUP = int(ConvType.C2C), int(ConvType.GROUP)
BOB: Key = (C2C, "bob")
G: Key = (GROUP, "g")


class FakeList:
    """The conversation list as the core sees it: snapshots ordered by ``pos``."""

    def __init__(self) -> None:
        self.convs: dict[Key, Conversation] = {}
        self.group_names: list[str] = []

    def cached(self, conv_type: int, conv_id: str) -> Conversation | None:
        conv = self.convs.get((conv_type, conv_id))
        return None if conv is None or conv.deleted else conv

    def snapshots(self) -> dict[Key, Conversation]:
        return dict(self.convs)

    def apply(self, snapshots: list[Conversation], *, force: bool = False) -> None:
        for snap in snapshots:
            key = (snap.conv_type, snap.conv_id)
            old = self.convs.get(key)
            if old is None or force or snap.pos >= old.pos:
                self.convs[key] = snap

    def apply_message(self, msg: Message) -> bool:
        key = (msg.conv_type, msg.conv_id_for(ME))
        old = self.convs.get(key)
        if old is None:
            return False
        if msg.seq > old.max_seq:
            self.convs[key] = msgspec.structs.replace(old, max_seq=msg.seq, last_msg=msg)
        return True

    def set_group_names(self, names: list[str]) -> None:
        self.group_names = list(names)


def msg(seq: int, key: Key = BOB, sender: str = "", msg_id: str = "", time: int = 0) -> Message:
    conv_type, conv_id = key
    if conv_type == C2C:
        sender = sender or conv_id
        receiver = ME if sender == conv_id else conv_id
    else:
        sender, receiver = sender or "carol", conv_id
    return Message(
        msg_id=msg_id or f"{conv_id}-{seq}",
        conv_type=conv_type,
        sender=sender,
        receiver=receiver,
        elems=[],
        seq=seq,
        count=seq,
        server_time=time or seq,
    )


def snap(
    max_seq: int, key: Key = BOB, pos: int = 0, read_seq: int = 0, last: Message | None = None
) -> Conversation:
    return Conversation(
        conv_type=key[0],
        conv_id=key[1],
        max_seq=max_seq,
        count=max_seq,
        read_seq=read_seq,
        pos=pos or max_seq,
        last_msg=last if last is not None else (msg(max_seq, key) if max_seq else None),
    )


def token(phase: int = INCREMENTAL, db: int = 0, pos: int = 1) -> str:
    return encode_token(SyncToken(db=db, phase=phase, pos=pos, horizon=pos))


FULL_TOKEN = token(FULL)


def core(*, delivered: dict[Key, int] | None = None, tok: str = "") -> SyncCore:
    c = SyncCore(FakeList(), user_id=ME)
    c.token = tok
    if delivered:
        c.delivered.update(delivered)
    return c


def asks(actions: Iterable[SyncAction]) -> list[Ask]:
    return [a for a in actions if isinstance(a, Ask)]


def delivered_ids(actions: Iterable[SyncAction], announced: bool = True) -> list[str]:
    return [a.msg.msg_id for a in actions if isinstance(a, Deliver) and a.announce == announced]


class FakeServer:
    """Messages per conversation; answers ``conv_get``, ``catch_up`` and ``history`` asks."""

    def __init__(self, core: SyncCore) -> None:
        self.core = core
        self.msgs: dict[Key, list[Message]] = {}
        self.snaps: dict[Key, Conversation] = {}
        self.cached: dict[Key, list[Message]] = {}
        self.asked: list[str] = []

    def add(self, *msgs: Message) -> None:
        for m in msgs:
            key = (m.conv_type, m.conv_id_for(ME))
            self.msgs.setdefault(key, []).append(m)

    def answer(self, action: Ask | ReadCached) -> object:
        if isinstance(action, ReadCached):
            return list(reversed(self.cached.get(action.key, [])))
        self.asked.append(action.op)
        body = action.body
        if isinstance(body, ConvGetReq):
            key = (body.keys[0].conv_type, body.keys[0].conv_id)
            return ConvsRes(convs=[self.snaps[key]] if key in self.snaps else [])
        if isinstance(body, CatchUpReq):
            key = (body.conv_type, body.conv_id)
            after = [m for m in self.msgs.get(key, []) if m.seq > body.after_seq]
            return HistoryRes(msgs=after[: body.count], more=len(after) > body.count)
        assert isinstance(body, HistoryReq)
        key = (body.conv_type, body.conv_id)
        older = [
            m
            for m in reversed(self.msgs.get(key, []))
            if not body.before_seq or m.seq < body.before_seq
        ]
        return HistoryRes(msgs=older[: body.count], more=len(older) > body.count)

    def pump(self, actions: list[SyncAction]) -> list[SyncAction]:
        """Answer every request the actions ask, and those their answers ask, until none is
        left; every action seen, in order."""
        seen: list[SyncAction] = []
        todo = list(actions)
        while todo:
            action = todo.pop(0)
            seen.append(action)
            if isinstance(action, Ask | ReadCached):
                todo += self.core.answered(action.ticket, self.answer(action))
        return seen
