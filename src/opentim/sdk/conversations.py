"""ConversationManager: the user's conversation list, kept current by sync, pushes and calls."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import msgspec

from opentim.protocol import Conversation, Draft, Message
from opentim.protocol.ops import (
    ConvGetReq,
    ConvKey,
    ConvRes,
    ConvsRes,
    DraftReq,
    PinReq,
    ReadReq,
)

from .events import ConvEvent
from .exceptions import ConnectionLostError, SdkError

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from .client import Client

Key = tuple[int, str]
Convs = list[Conversation]
KeyList = list[Key]


class ConversationManager:
    """The cached list and the calls that change it. Every change fires its event before the
    call that made it returns."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self._convs: dict[Key, Conversation] = {}
        self._total = 0
        self._pending_drafts: dict[Key, DraftReq] = {}
        """Draft edits not yet on the server (made offline, or in flight)."""

    # --- reading ----------------------------------------------------------------------------
    def list(self) -> Convs:
        """Visible conversations, ordered as the reference orders them: by ``order_key``,
        largest first (pinned first, then newest activity)."""
        visible = [c for c in self._convs.values() if not c.deleted]
        visible.sort(key=lambda c: c.order_key, reverse=True)
        return visible

    def cached(self, conv_type: int, conv_id: str) -> Conversation | None:
        conv = self._convs.get((conv_type, conv_id))
        return None if conv is None or conv.deleted else conv

    def total_unread(self) -> int:
        """Unread messages over every visible conversation."""
        return self._total

    async def get(self, keys: KeyList) -> Convs:
        """The user's conversations among ``keys``, in that order; unknown ones are left out."""
        missing = [k for k in keys if k not in self._convs]
        if missing:
            res = await self._client.request(
                "conv_get",
                ConvGetReq(keys=[ConvKey(conv_type=t, conv_id=i) for t, i in missing]),
                ConvsRes,
            )
            self.apply(res.convs)
        return [c for k in keys if (c := self.cached(*k)) is not None]

    # --- changing ---------------------------------------------------------------------------
    async def _change(self, op: str, body: msgspec.Struct) -> Conversation:
        res = await self._client.request(op, body, ConvRes)
        self.apply([res.conv])
        return self._convs.get((res.conv.conv_type, res.conv.conv_id), res.conv)

    async def create(self, conv_type: int, conv_id: str) -> Conversation:
        """Create the conversation on the server if it is new (every device sees it)."""
        return await self._change("conv_create", ConvKey(conv_type=conv_type, conv_id=conv_id))

    async def delete(self, conv_type: int, conv_id: str) -> None:
        """Delete the conversation and its history for this user, on all their devices."""
        await self._change("conv_delete", ConvKey(conv_type=conv_type, conv_id=conv_id))

    async def pin(self, conv_type: int, conv_id: str, pinned: bool) -> Conversation:
        return await self._change(
            "conv_pin", PinReq(conv_type=conv_type, conv_id=conv_id, pinned=pinned)
        )

    async def set_draft(self, conv_type: int, conv_id: str, draft: Draft) -> Conversation:
        """Set the draft: at once here (and in the local cache), then on the server, so every
        device of the user sees it; edited offline, it goes out on reconnect. The later
        ``edit_time`` wins across devices."""
        if not draft.edit_time:
            draft = msgspec.structs.replace(draft, edit_time=int(time.time()))
        req = DraftReq(conv_type=conv_type, conv_id=conv_id, draft=draft, edit_time=draft.edit_time)
        return await self._draft(req)

    async def cancel_draft(self, conv_type: int, conv_id: str) -> Conversation:
        """Cancel the draft, here at once and then on the server (as ``set_draft``)."""
        req = DraftReq(conv_type=conv_type, conv_id=conv_id, edit_time=int(time.time()))
        return await self._draft(req)

    async def _draft(self, req: DraftReq) -> Conversation:
        key = (req.conv_type, req.conv_id)
        old = self._convs.get(key)
        if old is None or old.deleted:
            # Unknown here: only the server can say whether it exists.
            return await self._change("conv_draft", req)
        local = msgspec.structs.replace(old, draft=req.draft)
        if req.draft is not None:
            local.activity = max(old.activity, old.pos) + 1  # drafting moves it up, as a bump
        self._replace(old, local)
        self._pending_drafts[key] = req
        if self._client.connected:
            await self._push_draft(key)
        return self._convs.get(key, local)

    async def _push_draft(self, key: Key) -> None:
        req = self._pending_drafts.get(key)
        if req is None:
            return
        try:
            res = await self._client.request("conv_draft", req, ConvRes)
        except ConnectionLostError:
            return  # stays pending: it goes out after the next sync
        if self._pending_drafts.get(key) is req:
            del self._pending_drafts[key]
        self.apply([res.conv])

    async def push_pending_drafts(self) -> None:
        """Send draft edits made while offline (after a sync, so the server's are known)."""
        for key in list(self._pending_drafts):
            try:
                await self._push_draft(key)
            except SdkError as exc:
                self._pending_drafts.pop(key, None)
                log.warning("draft of %s refused: %s", key, exc)

    async def mark_read(self, conv_type: int, conv_id: str, seq: int = 0) -> Conversation:
        """Mark the conversation read up to ``seq`` (0: everything so far)."""
        return await self._change(
            "conv_read", ReadReq(conv_type=conv_type, conv_id=conv_id, seq=seq)
        )

    # --- applying what the server says ------------------------------------------------------
    def restore(self, snapshots: Convs) -> None:
        """Fill the list from the local cache, silently (no events: nothing changed)."""
        for snap in snapshots:
            self._convs[(snap.conv_type, snap.conv_id)] = snap
            if not snap.deleted:
                self._total += snap.unread

    def _replace(self, old: Conversation, new: Conversation) -> None:
        """Swap in a locally made snapshot, with its event."""
        self._convs[(new.conv_type, new.conv_id)] = new
        updated: Convs = []
        total_before = self._total
        self._classify(old, new, [], updated, [])
        self._emit([], updated, [], total_before)
        self._client.save_state([new], None)

    def apply(self, snapshots: Convs) -> None:
        """Apply conversation snapshots; stale ones (smaller ``pos``) are ignored."""
        added: Convs = []
        updated: Convs = []
        deleted: Convs = []
        changed: Convs = []
        total_before = self._total
        for snap in snapshots:
            key = (snap.conv_type, snap.conv_id)
            old = self._convs.get(key)
            if old is not None and snap.pos < old.pos:
                continue
            pending = self._pending_drafts.get(key)
            if pending is not None and (snap.draft is None) != (pending.draft is None or False):
                # A local edit not yet on the server: keep showing it.
                snap = msgspec.structs.replace(snap, draft=pending.draft)
            self._convs[key] = snap
            changed.append(snap)
            self._classify(old, snap, added, updated, deleted)
        self._emit(added, updated, deleted, total_before)
        self._client.save_state(changed, None)

    def apply_message(self, msg: Message) -> bool:
        """Fold a new message into its conversation; False when the conversation is unknown
        here and must be fetched."""
        me = self._client.user_id
        key = (msg.conv_type, msg.conv_id_for(me))
        old = self._convs.get(key)
        if old is None:
            return False
        if msg.seq <= old.max_seq or old.ended:
            return True
        new = msgspec.structs.replace(
            old,
            max_seq=msg.seq,
            count=msg.count,
            activity=max(old.activity, msg.activity),
            pos=max(old.pos, msg.activity),
            deleted=False,
        )
        if not msg.excluded_from_last:
            new.last_msg = msg
        if msg.sender == me:
            new.read_seq, new.read_count = msg.seq, msg.count
        self._convs[key] = new
        added: Convs = []
        updated: Convs = []
        total_before = self._total
        self._classify(old, new, added, updated, [])
        self._emit(added, updated, [], total_before)
        self._client.save_state([new], None)
        return True

    def _classify(
        self,
        old: Conversation | None,
        new: Conversation,
        added: Convs,
        updated: Convs,
        deleted: Convs,
    ) -> None:
        was_visible = old is not None and not old.deleted
        old_unread = old.unread if old is not None else 0  # 0 when deleted
        self._total += new.unread - old_unread
        if new.deleted:
            if was_visible:
                deleted.append(new)
        elif was_visible:
            if new != old:
                updated.append(new)
        else:
            added.append(new)

    def _emit(
        self,
        added: Convs,
        updated: Convs,
        deleted: Convs,
        total_before: int,
    ) -> None:
        events = self._client.events
        if added:
            events.emit_conversations(ConvEvent.ADDED, added)
        if deleted:
            events.emit_conversations(ConvEvent.DELETED, deleted)
        if updated:
            events.emit_conversations(ConvEvent.UPDATED, updated)
        if self._total != total_before:
            events.emit_total_unread(self._total)

    def clear(self) -> None:
        self._convs.clear()
        self._pending_drafts.clear()
        self._total = 0
