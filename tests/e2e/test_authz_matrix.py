"""The authorization matrix: every op of ``protocol.OPS`` tried by every kind of outsider.

Rows come from the op table itself, so a new op fails ``test_every_op_has_a_row`` until it gets
one. Each cell sends a raw request aimed at someone else's state and asserts, whatever the op:

- nothing of the victims leaks: no answer (nor push) carries a secret marker of theirs;
- a refusal changes nothing: the whole database is the same before and after;
- an allowed call changes only the caller's own rows.

Outsiders: a connection that never logged in; another user (aiming at a C2C conversation they are
not part of); a non-member, a removed member and a member of a dismissed group (aiming at the
group and one of its messages); a session whose UserSig expired meanwhile (the ``sig_expired``
push, then 6014 on every later request). Runs on SQLite, on PostgreSQL, and on PostgreSQL with
Redis as a cluster node would.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest
from websockets.asyncio.client import ClientConnection, connect

from opentim.protocol import AddOption, ConvType, Draft, ErrorCode, GroupType
from opentim.protocol.ops import OPS
from opentim.sdk import Client
from opentim.server.app import Server
from opentim.server.config import Limits

from ..conftest import server_config, sig
from ..dbdump import postgres_dump, sqlite_dump
from ..helpers import ids, until
from ..services import REDIS_URL, bus_prefix, temp_schema

pytestmark = pytest.mark.e2e

C2C, GROUP = int(ConvType.C2C), int(ConvType.GROUP)
SECRET = "victim-secret"
"""Every text the victims write carries this marker; no answer to an outsider may."""
ATTACKER = "mallory"


@dataclass
class Target:
    conv_type: int
    conv_id: str
    seq: int
    msg_id: str
    group_id: str


def key(t: Target) -> dict[str, Any]:
    return {"conv_type": t.conv_type, "conv_id": t.conv_id}


def out_msg(n: int) -> dict[str, Any]:
    return {"msg_id": f"mallory-{n}", "elems": [{"elem_type": 0, "text_elem_content": "hi"}]}


def peer(t: Target) -> str:
    """The user a friendship op aims at: the C2C target's peer, else a victim."""
    return t.conv_id if t.conv_type == C2C else "alice"


REQUESTS: dict[str, Callable[[Target, int], dict[str, Any]]] = {
    "login": lambda t, n: {},  # never sent by these tests: the session's own first frame
    "logout": lambda t, n: {},
    "ping": lambda t, n: {},
    "profile_set": lambda t, n: {"nick": "mallory"},
    "profile_get": lambda t, n: {"user_ids": ["alice", "bob"]},
    "send": lambda t, n: {**key(t), "msg": out_msg(n)},
    "history": lambda t, n: {**key(t), "count": 20},
    "catch_up": lambda t, n: {**key(t), "after_seq": 0},
    "conv_sync": lambda t, n: {},
    "conv_get": lambda t, n: {"keys": [key(t)]},
    "conv_create": lambda t, n: key(t),
    "conv_delete": lambda t, n: key(t),
    "conv_delete_list": lambda t, n: {"keys": [key(t)]},
    "conv_mark": lambda t, n: {"keys": [key(t)], "mark": 1, "enable": True},
    "conv_custom": lambda t, n: {"keys": [key(t)], "custom_data": "x"},
    "conv_clear_history": lambda t, n: key(t),
    "conv_pin": lambda t, n: {**key(t), "pinned": True},
    "conv_draft": lambda t, n: {**key(t), "draft": {"msg": out_msg(n)}},
    "conv_read": lambda t, n: key(t),
    "cgroup_create": lambda t, n: {"name": f"f{n}", "keys": [key(t)]},
    "cgroup_delete": lambda t, n: {"name": "alices-folder"},
    "cgroup_rename": lambda t, n: {"name": "alices-folder", "new_name": "x"},
    "cgroup_add": lambda t, n: {"name": "alices-folder", "keys": [key(t)]},
    "cgroup_remove": lambda t, n: {"name": "alices-folder", "keys": [key(t)]},
    "cgroup_list": lambda t, n: {},
    "recv_opt_set": lambda t, n: {"conv_type": t.conv_type, "conv_ids": [t.conv_id], "opt": 1},
    "recv_opt_get": lambda t, n: {"user_ids": ["alice", "bob"]},
    "msg_revoke": lambda t, n: {**key(t), "seq": t.seq, "msg_id": t.msg_id},
    "msg_delete": lambda t, n: {**key(t), "seqs": [t.seq]},
    "group_create": lambda t, n: {"name": "g", "group_id": t.group_id},
    "group_delete": lambda t, n: {"group_id": t.group_id},
    "group_join": lambda t, n: {"group_id": t.group_id},
    "group_quit": lambda t, n: {"group_id": t.group_id},
    "group_invite": lambda t, n: {"group_id": t.group_id, "user_ids": [ATTACKER]},
    "group_kick": lambda t, n: {"group_id": t.group_id, "user_ids": ["bob"]},
    "group_joined": lambda t, n: {},
    # friendship: aimed at the target's user (or alice), acting on the caller's own lists
    "friend_add": lambda t, n: {"user_id": peer(t), "remark": "x", "group_name": "g"},
    "friend_delete": lambda t, n: {"user_ids": [peer(t)], "type": 1},
    "friend_check": lambda t, n: {"user_ids": [peer(t)], "type": 1},
    "friend_list": lambda t, n: {},
    "friend_info": lambda t, n: {"user_ids": [peer(t)]},
    "friend_modify": lambda t, n: {"user_id": peer(t), "remark": "y"},
    "friend_search": lambda t, n: {"keywords": ["a"], "fields": 7},
    "friend_apps": lambda t, n: {"type": 2},
    "friend_answer": lambda t, n: {"user_id": peer(t), "action": 1},
    "friend_apps_read": lambda t, n: {"time": 0},
    "friend_apps_delete": lambda t, n: {"user_ids": [peer(t)], "type": 0},
    "black_add": lambda t, n: {"user_ids": [peer(t)]},
    "black_delete": lambda t, n: {"user_ids": [peer(t)]},
    "black_list": lambda t, n: {},
    "fgroup_create": lambda t, n: {"names": [f"g{n}"], "user_ids": [peer(t)]},
    "fgroup_delete": lambda t, n: {"names": ["g"]},
    "fgroup_modify": lambda t, n: {"names": ["g"], "user_ids": [peer(t)]},
    "fgroup_list": lambda t, n: {},
    "follow": lambda t, n: {"user_ids": [peer(t)]},
    "unfollow": lambda t, n: {"user_ids": [peer(t)]},
    "follow_list": lambda t, n: {"kind": 1},
    "follow_counts": lambda t, n: {"user_ids": [peer(t)]},
    "follow_check": lambda t, n: {"user_ids": [peer(t)]},
    "oa_subscribe": lambda t, n: {"account_id": "none"},
    "oa_unsubscribe": lambda t, n: {"account_id": "none"},
    "oa_info": lambda t, n: {},
    "group_info": lambda t, n: {"group_ids": [t.group_id or "x"]},
    "group_modify": lambda t, n: {"group_id": t.group_id, "flags": 1, "name": "pwned"},
    "group_members": lambda t, n: {"group_id": t.group_id},
    "group_member_modify": lambda t, n: {
        "group_id": t.group_id,
        "user_id": "bob",
        "flags": 8,
        "name_card": "pwned",
    },
    "group_pendencies": lambda t, n: {},
    "group_pendency_handle": lambda t, n: {
        "group_id": t.group_id,
        "from_user": "bob",
        "accept": True,
    },
    "group_pendency_read": lambda t, n: {"time": 1},
    # --- issue 11, users
    "user_search": lambda t, n: {"keywords": ["alice", "bob"]},
    "status_get": lambda t, n: {"user_ids": ["alice", "bob"]},
    "status_set": lambda t, n: {"custom_status": f"busy {n}"},
    "status_subscribe": lambda t, n: {"user_ids": ["alice", "bob"]},
    "status_unsubscribe": lambda t, n: {"user_ids": ["alice"]},
    "info_subscribe": lambda t, n: {"user_ids": ["alice", "bob"]},
    "info_unsubscribe": lambda t, n: {"user_ids": ["alice"]},
    "push_token": lambda t, n: {"token": f"token-{n}", "token_type": 1},
    "push_state": lambda t, n: {"background": True, "unread": n},
    "all_recv_opt_set": lambda t, n: {"opt": 2, "start": 3600, "duration": 60, "daily": True},
    "all_recv_opt_get": lambda t, n: {},
    "msg_find": lambda t, n: {"msg_ids": [t.msg_id]},
    "conv_read_all": lambda t, n: {},
    # issue 12, modify
    "msg_modify": lambda t, n: {
        **key(t),
        "seq": t.seq,
        "msg_id": t.msg_id,
        "elems": [{"elem_type": 0, "text_elem_content": "defaced"}],
    },
    # --- issue 12, reactions: only whoever may see the message
    "reaction_add": lambda t, n: {**key(t), "seq": t.seq, "msg_id": t.msg_id, "reaction_id": "x"},
    "reaction_remove": lambda t, n: {**key(t), "seq": t.seq, "reaction_id": "x"},
    "reactions_get": lambda t, n: {**key(t), "seqs": [t.seq]},
    "reaction_users": lambda t, n: {**key(t), "seq": t.seq, "reaction_id": "x"},
    # --- issue 12, pinned group messages: the owner and admins pin, members read
    "msg_pin": lambda t, n: {"group_id": t.group_id, "seq": t.seq, "pinned": n % 2 == 0},
    "msg_pinned_list": lambda t, n: {"group_id": t.group_id},
    # --- issue 12, message extensions: only whoever may see the message
    "ext_set": lambda t, n: {**key(t), "seq": t.seq, "items": [{"key": "k", "value": f"{n}"}]},
    "ext_get": lambda t, n: {**key(t), "seq": t.seq},
    "ext_delete": lambda t, n: {**key(t), "seq": t.seq, "keys": ["k"]},
}
FRIENDSHIP_OPS = frozenset(
    op
    for op in REQUESTS
    if op.startswith(("friend", "black", "fgroup", "follow", "unfollow", "oa_"))
)
"""Ops on the caller's own friendship state: allowed for everyone logged in."""

REFUSED = "refused"
"""The op answers an error and the database is unchanged."""
OWN = "own"
"""The op may succeed, acting on the caller's own rows only."""

# What each group outsider may do to the group's conversation and messages. A non-member has
# nothing of the group; a removed member and a member of a dismissed group keep their own
# conversation row (they may pin, mark, delete it, as in Tencent's apps) but can change nothing
# of the group and read nothing written after they left.
GROUP_ROLES = ("non_member", "removed_member", "dismissed_group")
ALWAYS_OWN = frozenset(
    {
        "logout",
        "ping",
        "profile_set",
        "profile_get",
        "conv_sync",
        "conv_get",
        "cgroup_list",
        "recv_opt_get",
        "group_joined",
        "group_info",
        "group_pendencies",
        "group_pendency_read",
        "history",
        "catch_up",
        "cgroup_delete",
        "cgroup_rename",
        "cgroup_remove",
        # issue 11, users: the caller's own status, subscriptions, push settings and options;
        # public profiles and statuses; messages found only among what the caller may see.
        "user_search",
        "status_get",
        "status_set",
        "status_subscribe",
        "status_unsubscribe",
        "info_subscribe",
        "info_unsubscribe",
        "push_token",
        "push_state",
        "all_recv_opt_set",
        "all_recv_opt_get",
        "msg_find",
        "conv_read_all",
    }
    | FRIENDSHIP_OPS
)
NEVER_ON_A_FOREIGN_GROUP = frozenset(
    {
        "send",
        "msg_revoke",
        "group_delete",
        "group_join",
        "group_quit",
        "group_invite",
        "group_kick",
        "group_create",
        "group_modify",
        "group_members",
        "group_member_modify",
        "group_pendency_handle",
        # issue 12: only a member modifies a group message
        "msg_modify",
        "reaction_add",
        "reaction_remove",
        "reactions_get",
        "reaction_users",
        "msg_pin",
        "msg_pinned_list",
        "ext_set",
        "ext_get",
        "ext_delete",
    }
)
"""Refused for every group outsider (``group_create`` reuses the group's id: 10021)."""


def expectation(op: str, role: str) -> str:
    if op in ALWAYS_OWN or role == "other_user":
        return OWN
    if op in NEVER_ON_A_FOREIGN_GROUP:
        return REFUSED
    if role == "non_member":
        # Without a conversation of the group, a non-member cannot make one by any call.
        return REFUSED if op != "cgroup_create" else OWN
    return OWN


def test_every_op_has_a_row() -> None:
    assert set(REQUESTS) == set(OPS), "a new op needs its row in the authorization matrix"


# --- the world ----------------------------------------------------------------------------------
class Raw:
    """A bare protocol connection: one request at a time, pushes collected."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.pushes: list[bytes] = []

    async def call(self, op: str, body: dict[str, Any]) -> tuple[int, bytes]:
        req_id = next(self.ids)
        await self.ws.send(msgspec.json.encode({"t": "req", "id": req_id, "op": op, "body": body}))
        async with asyncio.timeout(10):
            while True:
                raw = await self.ws.recv(decode=False)
                frame = msgspec.json.decode(raw)
                if frame.get("t") == "push":
                    self.pushes.append(raw)
                elif frame.get("id") == req_id:
                    return int(frame.get("code", 0)), raw

    async def wait_push(self, kind: str, timeout: float) -> None:
        async with asyncio.timeout(timeout):
            while not any(msgspec.json.decode(p).get("kind") == kind for p in self.pushes):
                raw = await self.ws.recv(decode=False)
                if msgspec.json.decode(raw).get("t") == "push":
                    self.pushes.append(raw)


@dataclass
class World:
    server: Server
    dump: Callable[[], Any]
    targets: dict[str, Target]


async def _send(client: Client, conv_type: int, conv_id: str, text: str) -> tuple[int, str]:
    msg = await client.messages.send_text(conv_type, conv_id, text)
    return msg.seq, msg.msg_id


async def build_world(server: Server) -> dict[str, Target]:
    clients = [Client(server.url) for _ in range(3)]
    alice, bob, mallory = clients
    try:
        for client, user in zip(clients, ("alice", "bob", ATTACKER), strict=True):
            await client.login(user, sig(user))
            await client.wait_synced(10)
        await alice.set_profile(nick="Alice")  # profiles are public
        seq, msg_id = await _send(alice, C2C, "bob", f"{SECRET} to bob")
        draft = Draft(msg={"text": f"{SECRET} draft"}, user_define=SECRET)
        await alice.conversations.set_draft(C2C, "bob", draft)
        await alice.conversations.create_group("alices-folder", [(C2C, "bob")])
        other = Target(C2C, "bob", seq, msg_id, "")

        work = int(GroupType.PRIVATE)
        closed = await alice.groups.create("closed", work, members=["bob"])
        seq, msg_id = await _send(alice, GROUP, closed, f"{SECRET} in closed")
        targets = {"other_user": other, "non_member": Target(GROUP, closed, seq, msg_id, closed)}

        removed = await alice.groups.create("removed", work, members=["bob", ATTACKER])
        await until(mallory, lambda: removed in ids(mallory))
        await _send(alice, GROUP, removed, "before the kick")
        await alice.groups.kick(removed, [ATTACKER])
        seq, msg_id = await _send(alice, GROUP, removed, f"{SECRET} after the kick")
        targets["removed_member"] = Target(GROUP, removed, seq, msg_id, removed)

        dismissed = await alice.groups.create(
            "dismissed", GroupType.PUBLIC, add_option=AddOption.FORBID, members=["bob", ATTACKER]
        )
        seq, msg_id = await _send(bob, GROUP, dismissed, "before the end")
        await until(mallory, lambda: dismissed in ids(mallory))
        await alice.groups.delete(dismissed)
        targets["dismissed_group"] = Target(GROUP, dismissed, seq, msg_id, dismissed)
        return targets
    finally:
        for client in clients:
            await client.close()
        async with asyncio.timeout(5):
            await server.wait_nobody()  # the closed sessions are recorded offline


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("postgres+redis", marks=[pytest.mark.postgres, pytest.mark.redis]),
    ]
)
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    # One connection tries every op, dumping the database around each: after its UserSig
    # expires that takes longer than the login timeout a device gets to log in again.
    patient = Limits(login_timeout=600.0)
    if request.param == "sqlite":
        server = Server(server_config(tmp_path / "data", limits=patient))
        await server.start()
        try:
            yield World(server, sqlite_dump(server.config.db_path), await build_world(server))
        finally:
            await server.stop()
        return
    async with temp_schema() as url:
        bus = {"bus": REDIS_URL, "bus_prefix": bus_prefix()} if "redis" in request.param else {}
        server = Server(server_config(tmp_path / "data", store=url, limits=patient, **bus))
        await server.start()
        try:
            yield World(server, postgres_dump(url), await build_world(server))
        finally:
            await server.stop()


async def snapshot(world: World) -> Any:
    result = world.dump()
    return await result if asyncio.iscoroutine(result) else result


def others_rows(state: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """Every row that names neither the attacker nor a group the attacker owns, less the
    server-wide clock (in ``meta``)."""
    mine = {ATTACKER} | {row[0] for row in state["groups"] if ATTACKER in row}
    return {
        table: [row for row in rows if not any(m in repr(row) for m in mine)]
        for table, rows in state.items()
        if table != "meta"
    }


@contextlib.asynccontextmanager
async def raw_session(world: World, user_sig: str | None) -> AsyncIterator[Raw]:
    async with connect(world.server.url, max_size=None) as ws:
        raw = Raw(ws)
        if user_sig is not None:
            code, _ = await raw.call(
                "login", {"user_id": ATTACKER, "user_sig": user_sig, "sdkappid": 1400000000}
            )
            assert code == 0
        yield raw


async def try_op(world: World, raw: Raw, op: str, target: Target, n: int) -> tuple[int, Any, Any]:
    before = await snapshot(world)
    code, answer = await raw.call(op, REQUESTS[op](target, n))
    if code == 0:  # a batch call answers per conversation
        results = msgspec.json.decode(answer).get("body", {}).get("results", [])
        if results and all(r.get("code") for r in results):
            code = results[0]["code"]
    after = await snapshot(world)
    assert SECRET.encode() not in answer, f"{op} leaked: {answer[:300]!r}"
    for push in raw.pushes:
        assert SECRET.encode() not in push, f"{op} leaked in a push: {push[:300]!r}"
    return code, before, after


ROLES = ("other_user", *GROUP_ROLES)


@pytest.mark.parametrize("role", ROLES)
async def test_an_outsider_reads_and_changes_nothing_of_others(world: World, role: str) -> None:
    target = world.targets[role]
    ops = [op for op in OPS if op not in ("login", "logout")] + ["logout"]
    async with raw_session(world, sig(ATTACKER)) as raw:
        for n, op in enumerate(ops):
            code, before, after = await try_op(world, raw, op, target, n)
            if expectation(op, role) == REFUSED:
                assert code != 0, f"{role}: {op} was allowed"
                assert after == before, f"{role}: refused {op} changed the database"
            else:
                assert others_rows(after) == others_rows(before), f"{role}: {op} changed others"


@pytest.mark.parametrize("role", ["non_member", "removed_member"])
async def test_a_group_outsider_cannot_tell_whether_a_message_exists(
    world: World, role: str
) -> None:
    target = world.targets[role]
    async with raw_session(world, sig(ATTACKER)) as raw:
        answers = []
        for seq in (target.seq, target.seq + 1000):
            answers.append((await raw.call("msg_delete", {**key(target), "seqs": [seq]}))[0])
        assert answers[0] == answers[1]


async def test_before_login_every_op_is_refused_and_changes_nothing(world: World) -> None:
    target = world.targets["non_member"]
    async with raw_session(world, None) as raw:
        for n, op in enumerate(op for op in OPS if op not in ("login", "ping")):
            code, before, after = await try_op(world, raw, op, target, n)
            assert code == ErrorCode.ERR_SDK_NOT_LOGGED_IN, op
            assert after == before, op
        assert (await raw.call("ping", {}))[0] == 0  # keepalive, before login too


async def test_after_the_usersig_expires_every_op_answers_6014(world: World) -> None:
    target = world.targets["removed_member"]
    async with raw_session(world, sig(ATTACKER, expire=1)) as raw:
        await raw.wait_push("sig_expired", timeout=5)  # the sig's own lifetime is the clock
        for n, op in enumerate(op for op in OPS if op not in ("login", "ping")):
            code, before, after = await try_op(world, raw, op, target, n)
            assert code == ErrorCode.ERR_SDK_NOT_LOGGED_IN, op
            assert after == before, op
