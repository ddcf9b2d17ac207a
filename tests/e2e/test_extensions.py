"""Message extensions end to end over real sockets (issue 12): set, read and delete on a
message sent with extensions, every other device of the conversation's members hears of it,
the first of two users setting one key wins (23001 for the other, who can set again), and
Tencent's limits."""

from __future__ import annotations

import asyncio

import pytest

from opentim.protocol import ConvType, ErrorCode, GroupType
from opentim.protocol.extensions import ExtPush
from opentim.sdk import Client

from ..conftest import Login
from ..helpers import Heard, code

pytestmark = pytest.mark.e2e
C2C, GROUP = ConvType.C2C, ConvType.GROUP


def heard(client: Client) -> Heard[tuple[str, ExtPush]]:
    return Heard(client.events.extensions)


async def test_c2c_set_get_delete_and_pushes(login: Login) -> None:
    ann, ann_pad = await login("ann", device_id="phone"), await login("ann", device_id="pad")
    bob = await login("bob")
    on_pad, on_bob = heard(ann_pad), heard(bob)
    out = ann.messages.new_text("vote", supports_extensions=True)
    msg = await ann.messages.send(C2C, "bob", out)
    assert msg.supports_extensions
    [res] = await ann.extensions.set(C2C, "bob", msg, {"q": "lunch?"})
    assert (res.code, res.ext.key, res.ext.value, res.ext.version) == (0, "q", "lunch?", 1)
    [(conv, push)] = await on_bob.wait(1)
    assert conv == "ann"
    assert [(e.key, e.value) for e in push.changed] == [("q", "lunch?")]
    [(conv, _)] = await on_pad.wait(1)
    assert conv == "bob"
    # Bob's SDK has seen version 1 from the push: his set of the same key goes through.
    results = await bob.extensions.set(C2C, "ann", msg, {"q": "yes", "a": "1"})
    assert [r.code for r in results] == [0, 0]
    got = await ann_pad.extensions.get(C2C, "bob", msg)
    assert {(e.key, e.value, e.version) for e in got} == {("q", "yes", 2), ("a", "1", 1)}
    results = await ann.extensions.delete(C2C, "bob", msg, ["a", "zz"])
    assert [(r.ext.key, r.code) for r in results] == [
        ("a", 0),
        ("zz", ErrorCode.ERR_SVR_MSG_EXTENSION_NOT_EXIST),
    ]
    [*_, (_, push)] = await on_bob.wait(2)
    assert push.deleted == ["a"]
    plain = await ann.messages.send_text(C2C, "bob", "no extensions")
    assert await code(ann.extensions.set(C2C, "bob", plain, {"k": "v"})) == (
        ErrorCode.ERR_INVALID_PARAMETERS
    )
    assert await code(ann.extensions.set(C2C, "bob", msg, {"k" * 101: "v"})) == (
        ErrorCode.ERR_INVALID_PARAMETERS
    )
    assert await code(ann.extensions.set(C2C, "bob", msg, {"k": "v" * 1025})) == (
        ErrorCode.ERR_INVALID_PARAMETERS
    )


async def test_two_members_set_one_key_the_first_wins(login: Login) -> None:
    owner, m1, m2 = await login("owner"), await login("m1"), await login("m2")
    outsider = await login("outsider")
    gid = await owner.groups.create("g", GroupType.PUBLIC, members=["m1", "m2"])
    out = owner.messages.new_text("seat", supports_extensions=True)
    msg = await owner.messages.send(GROUP, gid, out)
    # Neither has seen the key: both set it as new; the store orders them.
    one, two = await asyncio.gather(
        m1.extensions.set(GROUP, gid, msg, {"seat": "m1"}),
        m2.extensions.set(GROUP, gid, msg, {"seat": "m2"}),
    )
    codes = sorted([one[0].code, two[0].code])
    assert codes == [0, ErrorCode.ERR_SVR_MSG_EXTENSION_CONFLICT]
    loser, lost = (m2, two[0]) if one[0].code == 0 else (m1, one[0])
    assert lost.ext.version == 1  # the key as it is now
    [again] = await loser.extensions.set(GROUP, gid, msg, {"seat": "mine now"})
    assert (again.code, again.ext.version) == (0, 2)
    assert await code(outsider.extensions.get(GROUP, gid, msg)) == (
        ErrorCode.ERR_SVR_GROUP_PERMISSION_DENY
    )
