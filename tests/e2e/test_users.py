"""Users end to end over real sockets (issue 11): profiles with custom fields and their change
pushes, status as devices come and go, custom status, subscriptions, search, per-device push
settings, the all-messages receive option, messages found and read in bulk."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import pytest

from opentim.protocol import AllRecvOpt, ConvType, ErrorCode, Profile, UserStatus
from opentim.protocol.rules.users import SearchQuery, StatusType
from opentim.sdk import Client, SdkError
from opentim.server.app import Server

from ..conftest import Login
from ..faults import Proxy
from ..helpers import until

pytestmark = pytest.mark.e2e
C2C = ConvType.C2C
T = TypeVar("T")
HOBBY = "Tag_Profile_Custom_Hobby"


class Seen(Generic[T]):
    """Events of one kind a client received, waited for by predicate."""

    def __init__(self) -> None:
        self.items: list[T] = []
        self._next = 0
        self._changed = asyncio.Event()

    def add(self, item: T) -> None:
        self.items.append(item)
        self._changed.set()

    async def wait(self, pred: Callable[[T], bool], timeout: float = 5.0) -> T:
        """The first item not waited for before that satisfies ``pred`` (later waits look only
        after it: events are checked in the order they came)."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    for i in range(self._next, len(self.items)):
                        if pred(self.items[i]):
                            self._next = i + 1
                            return self.items[i]
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(f"not seen; saw {self.items!r}") from None


def statuses(client: Client) -> Seen[UserStatus]:
    seen: Seen[UserStatus] = Seen()
    client.events.statuses.add(lambda items: [seen.add(s) for s in items] and None)
    return seen


def profiles(client: Client) -> Seen[tuple[Profile, list[str]]]:
    seen: Seen[tuple[Profile, list[str]]] = Seen()
    client.events.profiles.add(lambda p, changed: seen.add((p, changed)))
    return seen


def is_status(user: str, kind: StatusType, devices: int | None = None) -> Callable[[Any], bool]:
    def pred(s: UserStatus) -> bool:
        n_ok = devices is None or len(s.online_devices) == devices
        return s.user_id == user and s.status_type == kind and n_ok

    return pred


async def test_custom_fields_reach_subscribers_and_own_devices(login: Login) -> None:
    alice = await login("alice", device_id="phone")
    alice_pc = await login("alice", device_id="pc")
    bob, carol = await login("bob"), await login("carol")
    await bob.users.subscribe_info(["alice"])
    to_bob, to_pc, to_carol = profiles(bob), profiles(alice_pc), profiles(carol)
    changed = await alice.users.set_profile(nick="Alice", custom={HOBBY: "chess"})
    assert changed.custom == {HOBBY: "chess"}
    seen, fields = await to_bob.wait(lambda e: e[0].nick == "Alice")
    assert seen.custom == {HOBBY: "chess"}
    assert fields == [f"custom:{HOBBY}", "nick"]
    await to_pc.wait(lambda e: e[0].custom == {HOBBY: "chess"})
    assert alice_pc.users.profile is not None
    assert alice_pc.users.profile.nick == "Alice"
    [got] = await carol.users.get_profiles(["alice"])
    assert got.custom == {HOBBY: "chess"}
    assert to_carol.items == []  # not subscribed: nothing pushed
    # Nothing changes: nobody hears; a removed field is gone.
    await alice.users.set_profile(nick="Alice")
    await alice.users.set_profile(custom={HOBBY: ""})
    _, fields = await to_bob.wait(lambda e: e[0].custom == {})
    assert fields == [f"custom:{HOBBY}"]
    assert len(to_bob.items) == 2
    await bob.users.unsubscribe_info([])
    await alice.users.set_profile(nick="A2")
    await to_pc.wait(lambda e: e[0].nick == "A2")
    assert len(to_bob.items) == 2


async def test_custom_field_limits_refuse_and_store_nothing(login: Login) -> None:
    alice = await login("alice")
    with pytest.raises(SdkError) as bad:
        await alice.users.set_profile(nick="x", custom={"Tag_Profile_Custom_No1": "v"})
    assert bad.value.code == ErrorCode.ERR_SVR_PROFILE_TAG_NOT_FOUND
    with pytest.raises(SdkError) as long:
        await alice.users.set_profile(custom={HOBBY: "x" * 501})
    assert long.value.code == ErrorCode.ERR_SVR_PROFILE_SIZE_LIMIT
    many = {f"Tag_Profile_Custom_{chr(97 + i)}z": "v" for i in range(21)}
    with pytest.raises(SdkError) as full:
        await alice.users.set_profile(custom=many)
    assert full.value.code == ErrorCode.ERR_SVR_PROFILE_SIZE_LIMIT
    [me] = await alice.users.get_profiles(["alice"])
    assert (me.nick, me.custom) == ("", {})


async def test_status_follows_devices_and_reaches_subscribers(login: Login, proxy: Proxy) -> None:
    watcher = await login("watcher")
    seen = statuses(watcher)
    [before] = await watcher.users.subscribe_status(["bob"])
    assert before.status_type == StatusType.UNLOGINED
    phone = await login("bob", device_id="phone")
    await seen.wait(is_status("bob", StatusType.ONLINE, 1))
    await login("bob", device_id="pc", url=proxy.url)
    got = await seen.wait(is_status("bob", StatusType.ONLINE, 2))
    assert sorted(got.online_devices) == ["pc", "phone"]
    proxy.go_down()  # the pc's connection drops (no logout), and it cannot come back
    await seen.wait(lambda s: s.user_id == "bob" and s.online_devices == ["phone"])
    await phone.logout()
    await seen.wait(is_status("bob", StatusType.UNLOGINED))
    proxy.restore()
    await login("bob", device_id="tablet", url=proxy.url)
    await seen.wait(lambda s: s.online_devices == ["tablet"])
    proxy.go_down()
    await seen.wait(is_status("bob", StatusType.OFFLINE))
    [now] = await watcher.users.statuses(["bob"])
    assert now.status_type == StatusType.OFFLINE
    # Unsubscribed: nothing more comes (a second watcher, still subscribed, shows when).
    other = await login("other")
    await other.users.subscribe_status(["bob"])
    to_other = statuses(other)
    await watcher.users.unsubscribe_status(["bob"])
    count = len(seen.items)
    await login("bob")
    await to_other.wait(is_status("bob", StatusType.ONLINE))
    await watcher.users.statuses(["bob"])  # a round trip: a push to it would be here by now
    assert len(seen.items) == count


async def test_custom_status_reaches_subscribers_and_own_devices(login: Login) -> None:
    bob, bob2, watcher = await login("bob"), await login("bob"), await login("watcher")
    await watcher.users.subscribe_status(["bob"])
    to_watcher, to_bob2 = statuses(watcher), statuses(bob2)
    await bob.users.set_custom_status("in a meeting")
    await to_watcher.wait(lambda s: s.custom_status == "in a meeting")
    await to_bob2.wait(lambda s: s.custom_status == "in a meeting")
    with pytest.raises(SdkError) as long:
        await bob.users.set_custom_status("x" * 101)
    assert long.value.code == ErrorCode.ERR_INVALID_PARAMETERS
    [s] = await watcher.users.statuses(["bob"])
    assert (s.custom_status, s.status_type) == ("in a meeting", StatusType.ONLINE)


async def test_search_by_keyword_gender_and_pages(login: Login) -> None:
    me = await login("me")
    for i in range(5):
        user = await login(f"sam{i}")
        await user.users.set_profile(nick=f"Sam {i}", gender=1 + i % 2)
    res = await me.users.search(SearchQuery(keywords=("sam",)), count=2)
    assert [p.user_id for p in res.profiles] == ["sam0", "sam1"]
    assert (res.total, res.finished) == (5, False)
    res = await me.users.search(SearchQuery(keywords=("sam",)), count=2, cursor=res.cursor)
    assert [p.user_id for p in res.profiles] == ["sam2", "sam3"]
    res = await me.users.search(SearchQuery(keywords=("SAM",), gender=2))
    assert [p.user_id for p in res.profiles] == ["sam1", "sam3"]
    assert res.finished
    both = SearchQuery(keywords=("sam", "4"), match_all=True)
    assert [p.user_id for p in (await me.users.search(both)).profiles] == ["sam4"]


async def test_push_settings_are_kept_per_device(login: Login, server: Server) -> None:
    phone = await login("bob", device_id="phone")
    pc = await login("bob", device_id="pc")
    await phone.users.set_push_token("apns-token", business_id=7, token_type=0)
    await phone.users.set_app_state(True, 5)
    await pc.users.set_push_token("fcm-token", token_type=1)
    kept = {s.device_id: s for s in await server.store.presence.push_settings("bob")}
    assert (kept["phone"].token, kept["phone"].business_id) == ("apns-token", 7)
    assert (kept["phone"].background, kept["phone"].unread) == (True, 5)
    assert (kept["pc"].token, kept["pc"].background) == ("fcm-token", False)
    await phone.users.set_app_state(False)
    kept = {s.device_id: s for s in await server.store.presence.push_settings("bob")}
    assert (kept["phone"].background, kept["phone"].token) == (False, "apns-token")


async def test_all_messages_option_is_server_state_on_every_device(login: Login) -> None:
    one, two = await login("bob"), await login("bob")
    on_two: Seen[AllRecvOpt] = Seen()
    two.events.all_recv_opt.add(on_two.add)
    window = AllRecvOpt(opt=2, start=22 * 3600, duration=8 * 3600, daily=True)
    await one.users.set_all_recv_opt(window)
    assert await on_two.wait(lambda o: o.opt == 2) == window
    assert await two.users.get_all_recv_opt() == window
    with pytest.raises(SdkError) as bad:
        await one.users.set_all_recv_opt(AllRecvOpt(opt=9))
    assert bad.value.code == ErrorCode.ERR_INVALID_PARAMETERS
    with pytest.raises(SdkError):
        await one.users.set_all_recv_opt(AllRecvOpt(opt=2, start=90_000, daily=True))
    assert await one.users.get_all_recv_opt() == window


async def test_find_by_id_and_seq_and_read_everything(login: Login) -> None:
    alice, bob, eve = await login("alice"), await login("bob"), await login("eve")
    sent = [await alice.messages.send_text(C2C, "bob", f"m{i}") for i in range(3)]
    await alice.messages.send_text(C2C, "eve", "for eve")
    found = await bob.messages.find([sent[2].msg_id, "nope", sent[0].msg_id])
    assert [m.msg_id for m in found] == [sent[2].msg_id, sent[0].msg_id]
    assert await eve.messages.find([sent[0].msg_id]) == []
    at = await bob.messages.find_at(C2C, "alice", [2, 3, 99])
    assert [m.seq for m in at] == [2, 3]
    await until(bob, lambda: bob.conversations.total_unread() == 3)
    await bob.messages.delete(C2C, "alice", [at[0]], cloud=True)
    assert [m.msg_id for m in await bob.messages.find([sent[1].msg_id])] == []
    await until(eve, lambda: eve.conversations.total_unread() == 1)
    await bob.messages.read_all()
    assert bob.conversations.total_unread() == 0
    await eve.messages.read_all()
    assert eve.conversations.total_unread() == 0


async def test_the_audience_hook_adds_who_hears_of_a_profile_change(
    login: Login, server: Server
) -> None:
    """What the friendship service plugs in: a source of more users (friends) for a change."""
    assert server.services is not None
    asked: list[str] = []

    async def friends_of(user_id: str) -> list[str]:
        asked.append(user_id)
        return ["carol"]

    async def broken(user_id: str) -> list[str]:
        raise RuntimeError("a failing source silences no other")

    server.services.presence.audiences += [broken, friends_of]
    alice, carol, dave = await login("alice"), await login("carol"), await login("dave")
    to_carol, to_dave = profiles(carol), profiles(dave)
    await alice.users.set_profile(nick="Al")
    got, _ = await to_carol.wait(lambda e: e[0].user_id == "alice")
    assert got.nick == "Al"
    assert asked == ["alice"]
    await dave.users.statuses(["alice"])  # a round trip: a push to dave would be here by now
    assert to_dave.items == []


async def test_messages_carry_their_senders_profile_without_custom_fields(login: Login) -> None:
    alice, bob = await login("alice"), await login("bob")
    await alice.users.set_profile(nick="Al", custom={HOBBY: "x" * 500})
    sent = await alice.messages.send_text(C2C, "bob", "hi")
    assert sent.sender_profile is not None
    assert (sent.sender_profile.nick, sent.sender_profile.custom) == ("Al", {})
    [stored] = await bob.messages.find([sent.msg_id])
    assert stored.sender_profile is not None
    assert (stored.sender_profile.nick, stored.sender_profile.custom) == ("Al", {})


async def test_friends_hear_of_a_profile_change(login: Login) -> None:
    """Whoever has the user as a friend hears of the change, without subscribing."""
    alice, bob, carol = await login("alice"), await login("bob"), await login("carol")
    await alice.users.set_profile(add_permission=1)  # anyone may add her
    added = await bob.friendship.add("alice", add_type=1)  # bob adds alice (one way)
    assert added.code == 0
    to_bob, to_carol = profiles(bob), profiles(carol)
    await alice.users.set_profile(nick="Alice B.")
    got, _ = await to_bob.wait(lambda e: e[0].user_id == "alice")
    assert got.nick == "Alice B."
    await carol.users.statuses(["alice"])  # a round trip: a push to carol would be here by now
    assert to_carol.items == []
