"""The group repository's info, member and pendency operations, on every engine (SQLite file,
PostgreSQL schema): group info with custom fields and ownership, member pages in the order of
joining, member changes and the cache that follows roles, applications handled once."""

from __future__ import annotations

import asyncio

from opentim.protocol import GroupPendency
from opentim.protocol.rules import PendencyType, handled
from opentim.server.store.base import Store

from .test_store_contract import factory, group_msg, group_row, store, tip

__all__ = ["factory", "store"]


async def make_group(store: Store, members: dict[str, int], group_id: str = "g") -> None:
    for user in members:
        await store.users.ensure_user(user, create=True)
    await store.groups.create_group(group_row(group_id), members, tip(group_id, f"t-{group_id}"), 1)


async def test_group_info_changes_merge_custom_fields_and_count_versions(store: Store) -> None:
    await make_group(store, {"o": 400, "a": 200})
    (before,) = await store.groups.groups_info("a", ["g", "missing"])
    assert (before.info_seq, before.custom, before.self_role, before.member_count) == (
        0,
        {},
        200,
        2,
    )
    changed = await store.groups.modify_group(
        "g",
        {"name": "new", "shutup_all": True, "custom": {"k1": "v1", "k2": "v2"}},
        tip("g", "c1"),
        7,
    )
    assert changed.seq == 2
    await store.groups.modify_group("g", {"custom": {"k1": "", "k3": "v3"}}, tip("g", "c2"), 8)
    (after,) = await store.groups.groups_info("a", ["g"])
    assert (after.name, after.shutup_all, after.info_seq, after.info_time) == ("new", True, 2, 8)
    assert after.custom == {"k2": "v2", "k3": "v3"}
    assert after.last_msg_time == 8
    assert after.max_seq == 3
    (outside,) = await store.groups.groups_info("stranger", ["g"])
    assert (outside.self_role, outside.self_unread, outside.name) == (0, 0, "new")
    row = await store.groups.get_group("g")
    assert row is not None
    assert row.shutup_all
    assert row.custom == {"k2": "v2", "k3": "v3"}


async def test_handing_the_group_over_swaps_the_roles(store: Store) -> None:
    await make_group(store, {"o": 400, "a": 200})
    await store.groups.modify_group("g", {}, tip("g", "own"), 2, new_owner="a")
    assert await store.groups.get_members("g") == {"o": 200, "a": 400}
    row = await store.groups.get_group("g")
    assert row is not None
    assert row.owner == "a"


async def test_member_pages_follow_the_order_of_joining_and_filter_by_role(store: Store) -> None:
    await make_group(store, {"o": 400, "m1": 200, "m2": 200})
    await store.users.ensure_user("m3", create=True)
    await store.groups.add_members("g", {"m3": 200}, tip("g", "j"), 2)
    await store.groups.modify_member("g", "m2", {"role": 300}, tip("g", "adm"), 3)
    everyone = [m.user_id for m in await store.groups.member_page("g", [200, 300, 400], 0, 10)]
    assert everyone == ["o", "m1", "m2", "m3"]
    first = await store.groups.member_page("g", [200, 300, 400], 0, 2)
    rest = await store.groups.member_page("g", [200, 300, 400], first[-1].seq, 2)
    assert [m.user_id for m in first + rest] == everyone
    admins = await store.groups.member_page("g", [300], 0, 10)
    assert [(m.user_id, m.role) for m in admins] == [("m2", 300)]
    assert await store.groups.get_members("g") == {"o": 400, "m1": 200, "m2": 300, "m3": 200}
    await store.groups.remove_members("g", ["m1"], tip("g", "k"), 4)
    assert [m.user_id for m in await store.groups.member_page("g", [200], 0, 10)] == ["m3"]


async def test_member_changes_and_mutes_are_stored(store: Store) -> None:
    await make_group(store, {"o": 400, "a": 200})
    none = await store.groups.modify_member(
        "g", "a", {"name_card": "Al", "custom": {"x": "1"}}, None, 2
    )
    assert none is None
    muted = await store.groups.modify_member("g", "a", {"mute_until": 500}, tip("g", "mute"), 2)
    assert muted is not None
    assert muted.seq == 2
    (a,) = await store.groups.members_info("g", ["a", "nobody"])
    assert (a.name_card, a.custom, a.mute_until, a.role) == ("Al", {"x": "1"}, 500, 200)
    assert await store.groups.sender_state("g", "a") == (False, 200, 500)
    assert await store.groups.sender_state("g", "nobody") == (False, 0, 0)
    assert await store.groups.sender_state("nogroup", "a") is None
    await store.groups.modify_group("g", {"shutup_all": True}, tip("g", "all"), 3)
    assert await store.groups.sender_state("g", "o") == (True, 400, 0)


def application(user: str, add_time: int) -> GroupPendency:
    return GroupPendency(
        group_id="g",
        from_user=user,
        to_user="",
        pendency_type=PendencyType.JOIN_NEEDS_ADMIN,
        add_time=add_time,
        pos=0,
        apply_msg="hi",
    )


async def test_an_application_is_listed_for_managers_and_handled_once(store: Store) -> None:
    await make_group(store, {"o": 400, "adm": 300, "m": 200})
    await store.users.ensure_user("u", create=True)
    await store.users.ensure_user("v", create=True)
    first = await store.groups.put_pendency(application("u", 10))
    second = await store.groups.put_pendency(application("v", 20))
    assert second.pos > first.pos > 0
    assert await store.groups.managers("g") == ["adm", "o"]
    assert [p.from_user for p in await store.groups.pendencies("o", 0, 10)] == ["v", "u"]
    assert [p.from_user for p in await store.groups.pendencies("o", second.pos, 10)] == ["u"]
    assert [p.from_user for p in await store.groups.pendencies("u", 0, 10)] == ["u"]
    assert await store.groups.pendencies("m", 0, 10) == []
    assert await store.groups.unread_pendencies("adm") == (0, 2)
    await store.groups.read_pendencies("adm", 15)
    await store.groups.read_pendencies("adm", 12)  # a read time never goes back
    assert await store.groups.unread_pendencies("adm") == (15, 1)

    done = handled(first, "adm", True, "ok")
    results = await asyncio.gather(
        store.groups.handle_pendency(done, tip("g", "join-u"), 30),
        store.groups.handle_pendency(handled(first, "o", False, "no"), None, 30),
    )
    assert sorted(applied for applied, _ in results) == [False, True]
    stored = await store.groups.get_pendency("g", "u", "")
    assert stored is not None
    assert stored.handler in ("adm", "o")
    joined = "u" in await store.groups.get_members("g")
    assert joined == (stored.handler == "adm")
    again = await store.groups.put_pendency(application("u", 40))
    assert again.handler == ""
    assert again.pos > second.pos


async def test_dismissed_groups_pendencies_are_gone(store: Store) -> None:
    await make_group(store, {"o": 400})
    await store.users.ensure_user("u", create=True)
    await store.groups.put_pendency(application("u", 10))
    await store.messages.append(group_msg("o", "g", "hello"), 2)
    await store.groups.dismiss_group("g", tip("g", "bye"), 3)
    assert await store.groups.pendencies("o", 0, 10) == []
    assert await store.groups.groups_info("o", ["g"]) == []
