"""Message extensions: each key's value and version. Written once for both engines; a set
compares versions (protocol/rules/extensions.py) under the store's one writer lock, so of two
users setting the same key at once only the first succeeds."""

from __future__ import annotations

from opentim.protocol.codes import ErrorCode
from opentim.protocol.rules.extensions import Stored, Wanted, set_outcome

from ..engine import Engine
from ..sql import Op, execute, rows
from ..writes import WriteTx

Exts = dict[str, Stored]
"""A message's extensions by key."""


def _exts(channel_id: str, seq: int) -> Op[Exts]:
    found = yield rows(
        "SELECT key, value, version FROM message_extensions WHERE channel_id = ? AND seq = ? "
        "ORDER BY key",
        channel_id,
        seq,
    )
    return {r[0]: Stored(r[1], int(r[2])) for r in found}


class Extensions:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def get(self, channel_id: str, seq: int) -> Exts:
        return await self.engine.read(lambda: _exts(channel_id, seq))

    async def set(
        self, channel_id: str, seq: int, wanted: list[Wanted]
    ) -> tuple[dict[str, ErrorCode | None], Exts]:
        """Set what the rule allows: each key's refusal or None, and the extensions after."""

        def write(tx: WriteTx) -> Op[tuple[dict[str, ErrorCode | None], Exts]]:
            current = yield from _exts(channel_id, seq)
            codes, writes = set_outcome(current, wanted)
            for key, new in writes.items():
                yield execute(
                    "INSERT INTO message_extensions (channel_id, seq, key, value, version) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel_id, seq, key) "
                    "DO UPDATE SET value = excluded.value, version = excluded.version",
                    channel_id,
                    seq,
                    key,
                    new.value,
                    new.version,
                )
            return codes, {**current, **writes}

        return await self.engine.write(write)

    async def delete(
        self, channel_id: str, seq: int, keys: list[str] | None
    ) -> tuple[dict[str, ErrorCode | None], Exts]:
        """Delete ``keys`` (None: all): each key's refusal (23004: not there) or None, and the
        extensions before."""

        def write(tx: WriteTx) -> Op[tuple[dict[str, ErrorCode | None], Exts]]:
            current = yield from _exts(channel_id, seq)
            wanted = list(current) if keys is None else keys
            codes: dict[str, ErrorCode | None] = {}
            for key in wanted:
                if key not in current:
                    codes[key] = ErrorCode.ERR_SVR_MSG_EXTENSION_NOT_EXIST
                    continue
                codes[key] = None
                yield execute(
                    "DELETE FROM message_extensions WHERE channel_id = ? AND seq = ? AND key = ?",
                    channel_id,
                    seq,
                    key,
                )
            return codes, current

        return await self.engine.write(write)
