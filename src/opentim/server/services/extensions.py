"""Message extensions (TIMMsgSetMessageExtensions and friends): who may set them (whoever may
see the message, when it was sent with ``message_support_message_extension``), the limits and
version check (protocol/rules/extensions.py), and the ``ext`` push to every device of the
conversation's members but the one that made the change."""

from __future__ import annotations

from opentim.protocol import ErrorCode, Message
from opentim.protocol.extensions import Extension, ExtItem, ExtPush, ExtResult
from opentim.protocol.ids import channel_of
from opentim.protocol.rules.extensions import Stored, Wanted, valid_key, valid_value

from ..bus.base import Bus
from ..store.base import Store
from ..store.repos.extensions import Exts
from .errors import ServiceError
from .messages import MessageService


def _ext(key: str, stored: Stored | None) -> Extension:
    if stored is None:
        return Extension(key=key)
    return Extension(key=key, value=stored.value, version=stored.version)


def _results(codes: dict[str, ErrorCode | None], exts: Exts) -> list[ExtResult]:
    return [
        ExtResult(ext=_ext(key, exts.get(key)), code=int(code or 0), desc=code.name if code else "")
        for key, code in codes.items()
    ]


class ExtensionService:
    def __init__(self, store: Store, bus: Bus, messages: MessageService) -> None:
        self.store = store
        self.bus = bus
        self.messages = messages

    async def _message(
        self, user_id: str, conv_type: int, conv_id: str, seq: int, msg_id: str
    ) -> tuple[Message, str]:
        msg = await self.messages.visible_message(user_id, conv_type, conv_id, seq, msg_id)
        if not msg.supports_extensions:
            raise ServiceError(
                ErrorCode.ERR_INVALID_PARAMETERS, "the message was not sent with extensions"
            )
        return msg, channel_of(user_id, conv_type, conv_id)

    async def get(
        self, user_id: str, conv_type: int, conv_id: str, seq: int, msg_id: str
    ) -> list[Extension]:
        msg, channel = await self._message(user_id, conv_type, conv_id, seq, msg_id)
        return [_ext(k, v) for k, v in (await self.store.extensions.get(channel, msg.seq)).items()]

    async def set(
        self,
        user_id: str,
        conv_type: int,
        conv_id: str,
        seq: int,
        msg_id: str,
        items: list[ExtItem],
        conn_id: str = "",
    ) -> list[ExtResult]:
        keys = [i.key for i in items]
        if not items or len(set(keys)) != len(keys):
            raise ServiceError(ErrorCode.ERR_INVALID_PARAMETERS, "1 to 20 different keys")
        if not all(valid_key(i.key) and valid_value(i.value) for i in items):
            raise ServiceError(
                ErrorCode.ERR_INVALID_PARAMETERS, "a key is 1 to 100 bytes, a value up to 1 KB"
            )
        msg, channel = await self._message(user_id, conv_type, conv_id, seq, msg_id)
        wanted = [Wanted(i.key, i.value, i.version) for i in items]
        codes, after = await self.store.extensions.set(channel, msg.seq, wanted)
        changed = [_ext(k, after[k]) for k, code in codes.items() if code is None]
        if changed:
            await self._push(msg, conn_id, changed=changed)
        return _results(codes, after)

    async def delete(
        self,
        user_id: str,
        conv_type: int,
        conv_id: str,
        seq: int,
        msg_id: str,
        keys: list[str],
        conn_id: str = "",
    ) -> list[ExtResult]:
        """Delete ``keys`` (none: all of them)."""
        if len(set(keys)) != len(keys) or not all(valid_key(k) for k in keys):
            raise ServiceError(ErrorCode.ERR_INVALID_PARAMETERS, "invalid or repeated keys")
        msg, channel = await self._message(user_id, conv_type, conv_id, seq, msg_id)
        codes, before = await self.store.extensions.delete(channel, msg.seq, keys or None)
        deleted = [k for k, code in codes.items() if code is None]
        if deleted:
            await self._push(msg, conn_id, deleted=deleted)
        return _results(codes, before)

    async def _push(
        self,
        msg: Message,
        conn_id: str,
        changed: list[Extension] | None = None,
        deleted: list[str] | None = None,
    ) -> None:
        push = ExtPush(
            conv_type=msg.conv_type,
            sender=msg.sender,
            receiver=msg.receiver,
            seq=msg.seq,
            msg_id=msg.msg_id,
            changed=changed or [],
            deleted=deleted or [],
        )
        await self.messages.announce(msg, "ext", push, conn_id)
