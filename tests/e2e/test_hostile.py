"""Hostile frames over a real socket (issue 9): each is answered with a protocol error or closes
the connection cleanly with a reason, the server logs no traceback, and nothing is stored."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from opentim.protocol import ErrorCode, Mark
from opentim.protocol.limits import MAX_FRAME_BYTES, MAX_WIRE_FRAME_BYTES
from opentim.sdk import Client
from opentim.server.app import Server

from ..conftest import Login, server_config, sig
from ..helpers import conv, until
from ..services import temp_schema

pytestmark = pytest.mark.e2e


class Raw:
    """A bare WebSocket session: requests as dicts or bytes, answers as dicts."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ids = 0

    async def send(self, op: str, body: dict[str, Any]) -> dict[str, Any]:
        self.ids += 1
        frame = {"t": "req", "id": self.ids, "op": op, "body": body}
        return await self.send_raw(msgspec.json.encode(frame))

    async def send_raw(self, frame: bytes | str) -> dict[str, Any]:
        await self.ws.send(frame)
        while True:  # pushes may come first
            answer: dict[str, Any] = msgspec.json.decode(await self.ws.recv())
            if answer["t"] == "res":
                return answer

    async def code(self, op: str, body: dict[str, Any]) -> int:
        return int((await self.send(op, body)).get("code", 0))


@pytest.fixture
async def raw(server: Server) -> AsyncIterator[Raw]:
    async with connect(server.url, max_size=None) as ws:
        session = Raw(ws)
        body = {"user_id": "mallory", "user_sig": sig("mallory"), "sdkappid": 1400000000}
        assert await session.code("login", body) == 0
        yield session


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert bad == [], [r.getMessage() for r in bad]


TEXT = [{"elem_type": 0, "text_elem_content": "hi"}]


async def test_integers_beyond_int64_are_refused_with_6017_and_nothing_is_stored(
    raw: Raw, login: Login, caplog: pytest.LogCaptureFixture
) -> None:
    await login("bob")
    huge = 1 << 64
    msg = {"conv_type": 1, "conv_id": "bob"}
    for field in ("client_time", "random", "priority", "platform"):
        body = msg | {"msg": {"msg_id": f"m-{field}", "elems": TEXT, field: huge}}
        assert await raw.code("send", body) == ErrorCode.ERR_INVALID_PARAMETERS, field
    assert await raw.code("catch_up", msg | {"after_seq": huge}) == 6017
    assert await raw.code("msg_revoke", msg | {"seq": huge}) == 6017
    assert await raw.code("msg_delete", msg | {"seqs": [huge]}) == 6017
    token = base64.urlsafe_b64encode(msgspec.json.encode({"v": 1, "phase": 2, "pos": huge}))
    assert await raw.code("conv_sync", {"cursor": token.decode()}) == 6017
    mark = {"keys": [{"conv_type": 1, "conv_id": "bob"}], "enable": True}
    assert await raw.code("conv_mark", mark | {"mark": huge}) == 6017
    assert (await raw.send("history", msg))["body"] == {"msgs": []}, "nothing was stored"
    # In range, the largest values work: uint64 fields take all 64 bits.
    top = huge - 1
    body = msg | {"msg": {"msg_id": "top", "elems": TEXT, "client_time": top, "random": top}}
    sent = (await raw.send("send", body))["body"]["msg"]
    assert (sent["client_time"], sent["random"]) == (top, top)
    assert (await raw.send("catch_up", msg | {"after_seq": top}))["body"] == {"msgs": []}
    assert await raw.code("msg_revoke", msg | {"seq": top}) == ErrorCode.ERR_SVR_MSG_INVALID_ID
    assert await raw.code("conv_mark", mark | {"mark": 1 << 63}) == 0
    no_tracebacks(caplog)


async def test_malformed_frames_get_an_error_answer_and_the_connection_stays(
    raw: Raw, caplog: pytest.LogCaptureFixture
) -> None:
    deep = b'{"t":"req","id":5,"op":"ping","body":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert len(deep) < MAX_FRAME_BYTES
    assert (await raw.send_raw(deep))["code"] == ErrorCode.ERR_INVALID_JSON
    bad_utf8 = b'{"t":"req","id":6,"op":"profile_get","body":{"user_ids":["\xff\xfe"]}}'
    assert (await raw.send_raw(bad_utf8))["code"] == ErrorCode.ERR_INVALID_JSON
    big = b'{"t":"req","id":7,"op":"ping","body":{"x":"' + b"a" * MAX_FRAME_BYTES + b'"}}'
    assert (await raw.send_raw(big))["code"] == ErrorCode.ERR_SDK_MSG_BODY_SIZE_LIMIT
    nested: list[Any] = []
    for _ in range(40):  # past MAX_JSON_DEPTH: stored, it would be every reader's problem
        nested = [nested]
    elems = [{"elem_type": 0, "text_elem_content": "a", "x": nested}]
    body = {"conv_type": 1, "conv_id": "mallory", "msg": {"msg_id": "deep", "elems": elems}}
    assert await raw.code("send", body) == ErrorCode.ERR_INVALID_MSG_ELEM
    assert await raw.code("ping", {}) == 0, "the connection is still open"
    no_tracebacks(caplog)


async def test_a_frame_far_over_the_limit_closes_cleanly_with_a_reason(
    raw: Raw, caplog: pytest.LogCaptureFixture
) -> None:
    await raw.ws.send(b"x" * (MAX_WIRE_FRAME_BYTES + 1))
    with pytest.raises(ConnectionClosed) as info:
        await raw.ws.recv()
    assert info.value.rcvd is not None
    assert info.value.rcvd.code == 1009
    assert info.value.rcvd.reason
    no_tracebacks(caplog)


async def test_mentions_are_bounded_and_kept_to_members(
    raw: Raw, login: Login, caplog: pytest.LogCaptureFixture
) -> None:
    await login("bob")
    await login("carol")
    group = {"name": "g", "group_id": "hg1", "group_type": 1, "members": ["bob"]}
    assert await raw.code("group_create", group) == 0
    at = ["carol", "bob", "nobody", "bob", "__kImSDK_MessageAtALL__"]
    body = {"conv_type": 2, "conv_id": "hg1", "msg": {"msg_id": "at1", "elems": TEXT}}
    sent = await raw.send("send", body | {"msg": body["msg"] | {"at_users": at}})
    assert sent["body"]["msg"]["at_users"] == ["bob", "__kImSDK_MessageAtALL__"]
    many = [f"u{i}" for i in range(31)]
    too_many = body | {"msg": {"msg_id": "at2", "elems": TEXT, "at_users": many}}
    assert await raw.code("send", too_many) == ErrorCode.ERR_INVALID_PARAMETERS
    no_tracebacks(caplog)


async def test_msg_id_reused_for_another_conversation_is_refused(raw: Raw, login: Login) -> None:
    await login("bob")
    await login("carol")
    to_bob = {"conv_type": 1, "conv_id": "bob", "msg": {"msg_id": "same", "elems": TEXT}}
    first = (await raw.send("send", to_bob))["body"]["msg"]
    again = (await raw.send("send", to_bob))["body"]["msg"]
    assert again["seq"] == first["seq"], "a resend to the same conversation is idempotent"
    to_carol = to_bob | {"conv_id": "carol"}
    assert await raw.code("send", to_carol) == ErrorCode.ERR_INVALID_PARAMETERS
    history = await raw.send("history", {"conv_type": 1, "conv_id": "carol"})
    assert history["body"] == {"msgs": []}, "nothing was stored for carol"


async def test_system_ids_cannot_log_in_or_register(server: Server) -> None:
    for user in ("@TIM#SYSTEM", "@TIM#admin"):
        async with connect(server.url) as ws:
            body = {"user_id": user, "user_sig": sig(user), "sdkappid": 1400000000}
            code = await Raw(ws).code("login", body)
            assert code == ErrorCode.ERR_SDK_COMM_INVALID_IDENTIFIER
    assert await server.store.users.get_profiles(["@TIM#SYSTEM", "@TIM#admin"]) == {}


async def test_msg_delete_tells_a_stranger_nothing(raw: Raw, login: Login) -> None:
    bob = await login("bob")
    await bob.groups.create("secret", 1, group_id="hg2")
    ref = {"conv_type": 2, "conv_id": "hg2"}
    existing = await raw.code("msg_delete", ref | {"seqs": [1]})
    missing = await raw.code("msg_delete", ref | {"seqs": [999]})
    assert existing == missing == ErrorCode.ERR_INVALID_CONVERSATION


async def test_a_text_frame_that_is_not_utf8_closes_cleanly_with_a_reason(
    raw: Raw, caplog: pytest.LogCaptureFixture
) -> None:
    await raw.ws.send(b'{"t":"req","id":1,"op":"ping","body":{"x":"\xff"}}', text=True)
    with pytest.raises(ConnectionClosed) as info:
        await raw.ws.recv()
    assert info.value.rcvd is not None
    assert (info.value.rcvd.code, bool(info.value.rcvd.reason)) == (1007, True)
    no_tracebacks(caplog)


async def test_sdk_pages_a_long_conversation_lookup_under_the_servers_limit(login: Login) -> None:
    alice = await login("alice")
    await login("bob")
    await alice.messages.send_text(1, "bob", "hi")
    keys = [(1, f"nobody{i}") for i in range(250)] + [(1, "bob")]
    assert [c.conv_id for c in await alice.conversations.get(keys)] == ["bob"]


@pytest.mark.postgres
async def test_app_mark_bit_63_reaches_another_device_on_postgres(tmp_path: Path) -> None:
    async with temp_schema() as store:
        server = Server(server_config(tmp_path, store=store))
        await server.start()
        clients: list[Client] = []
        try:
            for user, device in (("alice", "phone"), ("alice", "tablet"), ("bob", "b")):
                client = Client(server.url, device_id=device)
                clients.append(client)
                await client.login(user, sig(user))
            phone, tablet, bob = clients
            await bob.messages.send_text(1, "alice", "hi")
            await until(phone, lambda: phone.conversations.cached(1, "bob") is not None)
            results = await phone.conversations.mark([(1, "bob")], 1 << 63 | Mark.STAR, True)
            assert [r.code for r in results] == [0]
            await until(tablet, lambda: conv(tablet, 1, "bob").marks == 1 << 63 | Mark.STAR)
            await phone.conversations.mark([(1, "bob")], Mark.STAR, False)
            await until(tablet, lambda: conv(tablet, 1, "bob").marks == 1 << 63)
        finally:
            for client in clients:
                await client.close()
            await server.stop()
