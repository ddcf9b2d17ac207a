"""Pinned group messages. Written once for both engines; a pin checks the rule
(protocol/rules/pins.py) under the store's one writer lock, so two admins pinning at once
cannot pass the limit together."""

from __future__ import annotations

from opentim.protocol.codes import ErrorCode
from opentim.protocol.rules.pins import pin_refusal

from ..engine import Engine
from ..sql import Op, execute, rows, value
from ..writes import WriteTx


def _pinned(group_id: str) -> Op[list[int]]:
    found = yield rows("SELECT seq FROM group_pins WHERE group_id = ? ORDER BY n", group_id)
    return [int(r[0]) for r in found]


class Pins:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def pin(
        self, group_id: str, seq: int, user_id: str, role: int, pin: bool, now: int
    ) -> ErrorCode | None:
        """Pin (or unpin) message ``seq`` for ``user_id`` of ``role``: the refusal (nothing
        changed) or None."""

        def write(tx: WriteTx) -> Op[ErrorCode | None]:
            pinned = yield from _pinned(group_id)
            refusal = pin_refusal(role, pinned, seq, pin)
            if refusal is not None:
                return refusal
            if pin:
                n = yield value(
                    "SELECT COALESCE(MAX(n), 0) FROM group_pins WHERE group_id = ?", group_id
                )
                yield execute(
                    "INSERT INTO group_pins (group_id, seq, pinned_by, pinned_at, n) "
                    "VALUES (?, ?, ?, ?, ?)",
                    group_id,
                    seq,
                    user_id,
                    now,
                    int(n) + 1,
                )
            else:
                yield execute(
                    "DELETE FROM group_pins WHERE group_id = ? AND seq = ?", group_id, seq
                )
            return None

        return await self.engine.write(write)

    async def pinned(self, group_id: str) -> list[int]:
        """The group's pinned messages' seqs, in the order they were pinned."""
        return await self.engine.read(lambda: _pinned(group_id))
