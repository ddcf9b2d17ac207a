"""Pinned group messages end to end over real sockets (issue 12): admins pin, every member's
devices hear of it, members read the list in pin order, Tencent's codes for the rest."""

from __future__ import annotations

import pytest

from opentim.protocol import ErrorCode, GroupType
from opentim.protocol.ops import MemberModifyReq
from opentim.protocol.pins import PinnedPush
from opentim.protocol.rules import MemberField
from opentim.protocol.rules.pins import MAX_PINNED
from opentim.sdk import Client

from ..conftest import Login
from ..helpers import Heard, code

pytestmark = pytest.mark.e2e


def heard(client: Client) -> Heard[PinnedPush]:
    return Heard(client.events.pins)


async def test_admins_pin_members_hear_and_read(login: Login) -> None:
    owner, owner_pc = await login("owner", device_id="phone"), await login("owner", device_id="pc")
    adm, mem, outsider = await login("adm"), await login("mem"), await login("outsider")
    gid = await owner.groups.create("g", GroupType.PUBLIC, members=["adm", "mem"])
    admin = MemberModifyReq(group_id=gid, user_id="adm", flags=MemberField.ROLE, role=300)
    await owner.groups.modify_member(admin)
    on_mem, on_pc = heard(mem), heard(owner_pc)
    first = await mem.messages.send_text(2, gid, "first")
    second = await mem.messages.send_text(2, gid, "second")
    await adm.pins.pin(gid, second, True)
    await owner.pins.pin(gid, first, True)
    pushes = await on_mem.wait(2)
    assert [(p.msg.seq, p.pinned, p.op_user) for p in pushes] == [
        (second.seq, True, "adm"),
        (first.seq, True, "owner"),
    ]
    assert pushes[0].msg.text == "second"
    # The owner's other device hears of the phone's pin too (the phone has its answer).
    assert [p.op_user for p in await on_pc.wait(2)] == ["adm", "owner"]
    assert [m.seq for m in await mem.pins.pinned(gid)] == [second.seq, first.seq]
    assert await code(mem.pins.pin(gid, first, False)) == ErrorCode.ERR_SVR_GROUP_PERMISSION_DENY
    assert await code(adm.pins.pin(gid, first, True)) == (
        ErrorCode.ERR_SVR_GROUP_MESSAGE_ALREADY_PINNED
    )
    assert await code(outsider.pins.pinned(gid)) == ErrorCode.ERR_SVR_GROUP_PERMISSION_DENY
    await adm.pins.pin(gid, second, False)
    [*_, last] = await on_mem.wait(3)
    assert (last.msg.seq, last.pinned) == (second.seq, False)
    assert [m.seq for m in await owner.pins.pinned(gid)] == [first.seq]
    assert await code(adm.pins.pin(gid, second, False)) == (
        ErrorCode.ERR_SVR_GROUP_INVALID_PARAMETERS
    )


async def test_at_most_ten_pinned(login: Login) -> None:
    owner = await login("owner")
    gid = await owner.groups.create("g", GroupType.PUBLIC)
    msgs = [await owner.messages.send_text(2, gid, f"m{i}") for i in range(MAX_PINNED + 1)]
    for msg in msgs[:MAX_PINNED]:
        await owner.pins.pin(gid, msg, True)
    assert await code(owner.pins.pin(gid, msgs[-1], True)) == (
        ErrorCode.ERR_SVR_GROUP_PINNED_MESSAGE_COUNT_LIMIT
    )
