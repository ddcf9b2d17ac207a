"""ExtensionManager: message extensions, server state asked from the server.

It remembers the version of each key it has seen (from answers and pushes); a set names it, so
the server can tell a stale write: 23001, someone set the key meanwhile. The answer carries the
key as it is now, which is remembered, so setting again works (Tencent's behaviour: the first
of two users setting one key at once wins). The server's ``ext`` pushes become
``events.extensions``.
"""

from __future__ import annotations

from opentim.protocol import Message
from opentim.protocol.extensions import (
    ExtDeleteReq,
    Extension,
    ExtItem,
    ExtMsgReq,
    ExtPush,
    ExtResult,
    ExtResultsRes,
    ExtSetReq,
    ExtsRes,
)

from .transport import Transport

MsgKey = tuple[int, str, int]
"""A message: conversation type, this user's conversation id, seq."""


class ExtensionManager:
    def __init__(self, transport: Transport) -> None:
        self._transport = transport
        self._versions: dict[MsgKey, dict[str, int]] = {}

    def remember(self, key: MsgKey, exts: list[Extension], deleted: list[str]) -> None:
        """Versions seen in an answer or a push (``deleted``: keys that are gone)."""
        versions = self._versions.setdefault(key, {})
        for e in exts:
            if e.version:
                versions[e.key] = e.version
            else:
                versions.pop(e.key, None)
        for k in deleted:
            versions.pop(k, None)

    def on_push(self, conv_id: str, push: ExtPush) -> None:
        self.remember((push.conv_type, conv_id, push.seq), push.changed, push.deleted)

    def _req(self, conv_type: int, conv_id: str, msg: Message) -> ExtMsgReq:
        return ExtMsgReq(conv_type=conv_type, conv_id=conv_id, seq=msg.seq, msg_id=msg.msg_id)

    async def get(self, conv_type: int, conv_id: str, msg: Message) -> list[Extension]:
        """The message's extensions (6017: it was not sent with extensions)."""
        res = await self._transport.request("ext_get", self._req(conv_type, conv_id, msg), ExtsRes)
        key = (conv_type, conv_id, msg.seq)
        self._versions[key] = {}
        self.remember(key, res.exts, [])
        return res.exts

    async def set(
        self, conv_type: int, conv_id: str, msg: Message, values: dict[str, str]
    ) -> list[ExtResult]:
        """Set extensions (1 to 20; a key up to 100 bytes, a value up to 1 KB; 300 per
        message): each key's outcome (23001: set by someone else meanwhile)."""
        key = (conv_type, conv_id, msg.seq)
        seen = self._versions.get(key, {})
        items = [ExtItem(key=k, value=v, version=seen.get(k, 0)) for k, v in values.items()]
        req = ExtSetReq(
            conv_type=conv_type, conv_id=conv_id, seq=msg.seq, msg_id=msg.msg_id, items=items
        )
        res = await self._transport.request("ext_set", req, ExtResultsRes)
        self.remember(key, [r.ext for r in res.results], [])
        return res.results

    async def delete(
        self, conv_type: int, conv_id: str, msg: Message, keys: list[str]
    ) -> list[ExtResult]:
        """Delete extensions (none named: all): each key's outcome (23004: not there)."""
        req = ExtDeleteReq(
            conv_type=conv_type, conv_id=conv_id, seq=msg.seq, msg_id=msg.msg_id, keys=keys
        )
        res = await self._transport.request("ext_delete", req, ExtResultsRes)
        gone = [r.ext.key for r in res.results if r.code == 0]
        self.remember((conv_type, conv_id, msg.seq), [], gone)
        return res.results
