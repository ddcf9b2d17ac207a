"""Group info, member info and join applications over a real server: who may change what, the
tips every member gets, member pages by role, mutes enforced on send, applications and
invitations waiting for approval, handled once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from opentim.protocol import AddOption, ConvType, ErrorCode, GroupReport, GroupType, ReportType
from opentim.protocol.ops import GroupModifyReq, MemberModifyReq, PendencyHandleReq
from opentim.protocol.rules import InfoField, MemberField
from opentim.sdk import Client
from opentim.server.app import Server
from opentim.server.config import Limits

from ..conftest import Login, server_config, sig
from ..helpers import conv, ids, until
from .test_groups import code

pytestmark = pytest.mark.e2e
GROUP = ConvType.GROUP
DENIED = ErrorCode.ERR_SVR_GROUP_PERMISSION_DENY
MUTED = ErrorCode.ERR_SVR_GROUP_SHUTUP_DENY


async def tips_of(client: Client, group_id: str, tip_type: int) -> list[dict[str, Any]]:
    """The group's tips elements of ``tip_type`` in the client's history, oldest first."""
    msgs = await client.messages.history(GROUP, group_id, count=50)
    return [
        e
        for m in reversed(msgs)
        if m.is_tips
        for e in m.elems
        if e.get("group_tips_elem_tip_type") == tip_type
    ]


async def test_group_info_is_for_members_of_work_groups_and_anyone_of_public_ones(
    login: Login,
) -> None:
    owner, bob = await login("owner"), await login("bob")
    public = await owner.groups.create("pub", notification="hello", introduction="about")
    work = await owner.groups.create("work", GroupType.PRIVATE, members=["bob"])
    secret = await owner.groups.create("secret", GroupType.PRIVATE)
    results = await bob.groups.info([public, work, secret, "nope"])
    assert [(r.group_id, r.code) for r in results] == [
        (public, 0),
        (work, 0),
        (secret, DENIED),
        ("nope", ErrorCode.ERR_SVR_GROUP_NOT_FOUND),
    ]
    pub, wrk = results[0].info, results[1].info
    assert pub is not None
    assert wrk is not None
    assert (pub.name, pub.notification, pub.introduction, pub.owner) == (
        "pub",
        "hello",
        "about",
        "owner",
    )
    assert (pub.self_role, pub.member_count, pub.add_option) == (0, 1, AddOption.AUTH)
    assert (wrk.self_role, wrk.member_count, wrk.max_seq) == (200, 2, 1)
    assert wrk.last_msg_time > 0


async def test_changing_group_info_follows_the_roles_and_tips_every_member(login: Login) -> None:
    owner, bob = await login("owner"), await login("bob")
    gid = await owner.groups.create("before", add_option=AddOption.ANY)
    await bob.groups.join(gid)
    rename = GroupModifyReq(group_id=gid, flags=InfoField.NAME, name="after")
    assert await code(bob.groups.modify(rename)) == DENIED
    await owner.groups.modify(
        GroupModifyReq(
            group_id=gid,
            flags=InfoField.NAME | InfoField.NOTIFICATION | InfoField.CUSTOM,
            name="after",
            notification="read me",
            custom={"level": "3"},
        )
    )
    await until(bob, lambda: conv(bob, GROUP, gid).show_name == "after")
    (tip,) = await tips_of(bob, gid, 6)
    assert tip["group_tips_elem_op_user"] == "owner"
    changes = {
        c["group_tips_group_change_info_flag"]: c
        for c in tip["group_tips_elem_group_change_info_array"]
    }
    assert changes[1]["group_tips_group_change_info_value"] == "after"
    assert changes[3]["group_tips_group_change_info_value"] == "read me"
    assert changes[6]["group_tips_group_change_info_key"] == "level"
    assert conv(bob, GROUP, gid).unread == 0, "a tip never counts"
    (result,) = await bob.groups.info([gid])
    assert result.info is not None
    assert (result.info.name, result.info.custom, result.info.info_seq) == (
        "after",
        {"level": "3"},
        1,
    )
    too_long = GroupModifyReq(group_id=gid, flags=InfoField.NAME, name="x" * 101)
    assert await code(owner.groups.modify(too_long)) == ErrorCode.ERR_SDK_GROUP_INVALID_NAME
    unknown = GroupModifyReq(group_id=gid, flags=0x20)
    assert await code(owner.groups.modify(unknown)) == ErrorCode.ERR_SDK_INTERFACE_NOT_SUPPORT


async def test_any_member_renames_a_work_group_and_the_owner_hands_a_group_over(
    login: Login,
) -> None:
    owner, bob = await login("owner"), await login("bob")
    work = await owner.groups.create("w", GroupType.PRIVATE, members=["bob"])
    await bob.groups.modify(GroupModifyReq(group_id=work, flags=InfoField.NAME, name="bobs"))
    pub = await owner.groups.create("p", members=["bob"])
    handover = GroupModifyReq(group_id=pub, flags=InfoField.OWNER, owner="bob")
    assert await code(bob.groups.modify(handover)) == DENIED
    await owner.groups.modify(handover)
    (info,) = await owner.groups.info([pub])
    assert info.info is not None
    assert (info.info.owner, info.info.self_role) == ("bob", 200)
    await owner.groups.quit(pub)  # no longer the owner, so they may leave


async def test_mute_all_and_member_mutes_are_enforced_on_send(login: Login) -> None:
    owner, bob, carol = await login("owner"), await login("bob"), await login("carol")
    gid = await owner.groups.create("g", GroupType.CHATROOM, members=["bob", "carol"])
    make_admin = MemberModifyReq(group_id=gid, user_id="bob", flags=MemberField.ROLE, role=300)
    assert await code(carol.groups.modify_member(make_admin)) == DENIED
    await owner.groups.modify_member(make_admin)
    (admin_tip,) = await tips_of(carol, gid, 4)
    assert admin_tip["group_tips_elem_user_array"] == ["bob"]
    mute = MemberModifyReq(
        group_id=gid, user_id="carol", flags=MemberField.SHUTUP_TIME, shutup_time=600
    )
    await bob.groups.modify_member(mute)
    assert await code(carol.messages.send_text(GROUP, gid, "hi")) == MUTED
    (muted,) = await tips_of(carol, gid, 7)
    assert muted["group_tips_elem_member_change_info_array"] == [
        {
            "group_tips_member_change_info_identifier": "carol",
            "group_tips_member_change_info_shutupTime": 600,
        }
    ]
    mute_bob = MemberModifyReq(
        group_id=gid, user_id="bob", flags=MemberField.SHUTUP_TIME, shutup_time=60
    )
    assert await code(bob.groups.modify_member(mute_bob)) == DENIED
    await bob.groups.modify_member(
        MemberModifyReq(group_id=gid, user_id="carol", flags=MemberField.SHUTUP_TIME)
    )
    await carol.messages.send_text(GROUP, gid, "free again")
    await owner.groups.modify(
        GroupModifyReq(group_id=gid, flags=InfoField.SHUTUP_ALL, shutup_all=True)
    )
    assert await code(carol.messages.send_text(GROUP, gid, "hi")) == MUTED
    await bob.messages.send_text(GROUP, gid, "an admin still speaks")


async def test_member_pages_by_role_and_name_cards(login: Login) -> None:
    owner, bob, carol = await login("owner"), await login("bob"), await login("carol")
    await bob.set_profile(nick="Bobby")
    gid = await owner.groups.create("g", members=["bob", "carol"])
    await owner.groups.modify_member(
        MemberModifyReq(group_id=gid, user_id="bob", flags=MemberField.ROLE, role=300)
    )
    card = MemberModifyReq(
        group_id=gid,
        user_id="carol",
        flags=MemberField.NAME_CARD | MemberField.CUSTOM,
        name_card="C",
        custom={"k": "v"},
    )
    await carol.groups.modify_member(card)
    assert (
        await code(
            carol.groups.modify_member(
                MemberModifyReq(
                    group_id=gid, user_id="bob", flags=MemberField.NAME_CARD, name_card="x"
                )
            )
        )
        == DENIED
    )
    everyone, next_seq = await carol.groups.members(gid)
    assert ([m.user_id for m in everyone], next_seq) == (["owner", "bob", "carol"], 0)
    assert everyone[1].nick_name == "Bobby"
    admins, _ = await carol.groups.members(gid, role_flag=0x2)
    assert [(m.user_id, m.role) for m in admins] == [("bob", 300)]
    owner_and_members, _ = await carol.groups.members(gid, role_flag=0x1 | 0x4)
    assert [m.user_id for m in owner_and_members] == ["owner", "carol"]
    (c,) = (await owner.groups.members(gid, user_ids=["carol"]))[0]
    assert (c.name_card, c.custom, c.join_time > 0) == ("C", {"k": "v"}, True)
    outsider = await login("dave")
    assert await code(outsider.groups.members(gid)) == DENIED


async def test_a_join_application_waits_for_a_manager_and_is_handled_once(login: Login) -> None:
    owner, admin, carol = await login("owner"), await login("admin"), await login("carol")
    gid = await owner.groups.create("needs approval", members=["admin"])
    await owner.groups.modify_member(
        MemberModifyReq(group_id=gid, user_id="admin", flags=MemberField.ROLE, role=300)
    )
    requests: list[GroupReport] = []
    outcomes: list[GroupReport] = []
    owner.events.group_reports.add(requests.append)
    admin.events.group_reports.add(requests.append)
    carol.events.group_reports.add(outcomes.append)
    await carol.groups.join(gid, "please")
    assert gid not in ids(carol)
    await until(owner, lambda: len(requests) == 2)
    assert {(r.report_type, r.group_id, r.op_user, r.msg) for r in requests} == {
        (ReportType.ADD_REQUEST, gid, "carol", "please")
    }
    listed = await owner.groups.pendencies()
    (p,) = listed.pendencies
    assert (p.group_id, p.from_user, p.apply_msg, p.pendency_type, p.handler) == (
        gid,
        "carol",
        "please",
        0,
        "",
    )
    assert listed.unread == 1
    await owner.groups.read_pendencies(p.add_time)
    assert (await owner.groups.pendencies()).unread == 0
    assert (await carol.groups.pendencies()).pendencies[0].from_user == "carol"
    accept = PendencyHandleReq(group_id=gid, from_user="carol", accept=True, msg="welcome")
    assert await code(carol.groups.handle_pendency(accept)) == DENIED
    await admin.groups.handle_pendency(accept)
    await until(carol, lambda: gid in ids(carol) and len(outcomes) == 1)
    assert (outcomes[0].report_type, outcomes[0].op_user, outcomes[0].msg) == (
        ReportType.ADD_ACCEPT,
        "admin",
        "welcome",
    )
    assert await code(owner.groups.handle_pendency(accept)) == (
        ErrorCode.ERR_SVR_GROUP_REQ_ALLREADY_BEEN_PROCESSED
    )
    (seen,) = (await owner.groups.pendencies()).pendencies
    assert (seen.handler, seen.result, seen.handle_msg) == ("admin", 1, "welcome")
    await carol.messages.send_text(GROUP, gid, "thanks")


async def test_an_invitation_by_a_member_waits_when_the_group_says_so(login: Login) -> None:
    owner, bob, _carol = await login("owner"), await login("bob"), await login("carol")
    work = await owner.groups.create("w", GroupType.PRIVATE, members=["bob"])
    await owner.groups.modify(
        GroupModifyReq(group_id=work, flags=InfoField.APPROVE_OPTION, approve_option=AddOption.AUTH)
    )
    (result,) = await bob.groups.invite(work, ["carol"])
    assert result.result == 3, "invited: waiting for approval"
    (p,) = (await owner.groups.pendencies()).pendencies
    assert (p.from_user, p.to_user, p.pendency_type) == ("bob", "carol", 2)
    refuse = PendencyHandleReq(group_id=work, from_user="bob", to_user="carol", accept=False)
    await owner.groups.handle_pendency(refuse)
    assert "carol" not in {m.user_id for m in (await owner.groups.members(work))[0]}


async def test_the_member_list_pages_by_next_seq_in_the_order_of_joining(
    tmp_path: Path,
) -> None:
    """With pages of 2: five members come in three pages; a member who leaves between pages
    neither shifts nor repeats the others."""
    server = Server(server_config(tmp_path / "data", limits=Limits(members_page=2)))
    await server.start()
    clients: list[Client] = []
    try:
        for user in ("owner", "m1", "m2", "m3", "m4"):
            client = Client(server.url)
            clients.append(client)
            await client.login(user, sig(user))
        owner = clients[0]
        gid = await owner.groups.create("g", GroupType.PRIVATE, members=["m1", "m2", "m3", "m4"])
        seen: list[str] = []
        page, next_seq = await owner.groups.members(gid)
        seen += [m.user_id for m in page]
        assert (len(page), next_seq > 0) == (2, True)
        await owner.groups.kick(gid, ["m3"])
        while next_seq:
            page, next_seq = await owner.groups.members(gid, next_seq=next_seq)
            seen += [m.user_id for m in page]
        assert seen == ["owner", "m1", "m2", "m4"]
    finally:
        for client in clients:
            await client.close()
        await server.stop()
