"""Login over a real socket: UserSig checks, auto-registration, devices."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from opentim.protocol import ErrorCode, make_usersig
from opentim.sdk import Client, LoginStatus, SdkError
from opentim.server.app import Server

from ..conftest import SECRET_KEY, Login, server_config, sig
from ..helpers import until

pytestmark = pytest.mark.e2e


async def login_code(server: Server, user: str, user_sig: str, sdkappid: int = 1400000000) -> int:
    client = Client(server.url, sdkappid)
    try:
        with pytest.raises(SdkError) as info:
            await client.login(user, user_sig)
        assert client.login_status is LoginStatus.LOGGED_OUT
        return info.value.code
    finally:
        await client.close()


async def test_login_refusals_have_the_reference_codes(server: Server) -> None:
    assert await login_code(server, "alice", sig("alice", expire=-10)) == 70001
    assert await login_code(server, "alice", "garbage") == 70003
    assert await login_code(server, "alice", sig("alice", key="other")) == 70003
    assert await login_code(server, "alice", sig("bob")) == 70013
    other_app = make_usersig(SECRET_KEY, 1400000001, "alice", 2_000_000_000)
    assert await login_code(server, "alice", other_app) == 70014
    assert await login_code(server, "alice", sig("alice"), sdkappid=1400000001) == 70014
    assert (
        await login_code(server, "x" * 33, sig("x" * 33))
        == ErrorCode.ERR_SDK_COMM_INVALID_IDENTIFIER
    )


async def test_unknown_user_is_refused_without_auto_register(tmp_path: Path) -> None:
    srv = Server(server_config(tmp_path, auto_register=False))
    await srv.start()
    try:
        assert await login_code(srv, "stranger", sig("stranger")) == 70107
    finally:
        await srv.stop()


async def test_requests_before_login_are_refused(server: Server) -> None:
    client = Client(server.url)
    with pytest.raises(SdkError) as info:
        await client.conversations.pin(1, "bob", True)
    assert info.value.code == ErrorCode.ERR_SDK_NOT_LOGGED_IN


async def test_several_devices_stay_online_and_same_device_replaces(login: Login) -> None:
    phone = await login("alice", device_id="phone")
    laptop = await login("alice", device_id="laptop")
    kicked: list[int] = []
    phone.events.kicked.add(lambda code, desc: kicked.append(code))
    await laptop.conversations.create(1, "alice")  # both online: no kick
    assert kicked == []
    again = await login("alice", device_id="phone")
    assert again.login_status is LoginStatus.LOGGED_IN
    await laptop.conversations.create(1, "alice")
    # The replaced session hears about it before its socket closes.
    await until(phone, lambda: bool(kicked))
    assert kicked == [ErrorCode.ERR_LOGIN_KICKED_OFF_BY_OTHER]
    assert phone.login_status is LoginStatus.LOGGED_OUT


async def test_profile_is_settable_and_travels_with_messages(login: Login) -> None:
    alice = await login("alice")
    bob = await login("bob")
    await alice.set_profile(nick="Alice", face_url="https://a/face.png")
    msg = await alice.messages.send_text(1, "bob", "hi")
    assert msg.sender_profile is not None
    assert msg.sender_profile.nick == "Alice"
    (profile,) = await bob.get_profiles(["alice"])
    assert profile.face_url == "https://a/face.png"


async def raw_login(url: str, user: str, device: str, platform: int, resume: bool) -> int:
    """Log in over a bare socket, as an SDK's automatic re-login would; return the code."""
    import msgspec
    from websockets.asyncio.client import connect

    from opentim.protocol import Request, Response, encode, raw
    from opentim.protocol.ops import LoginReq

    body = LoginReq(
        user_id=user,
        user_sig=sig(user),
        sdkappid=1400000000,
        device_id=device,
        platform=platform,
        resume=resume,
    )
    async with connect(url) as ws:
        await ws.send(encode(Request(id=1, op="login", body=raw(body))))
        return msgspec.json.decode(await ws.recv(), type=Response).code


async def test_one_session_per_platform_policy(tmp_path: Path) -> None:
    srv = Server(server_config(tmp_path, one_session_per_platform=True))
    await srv.start()
    clients: list[Client] = []

    async def login(device: str, platform: int) -> Client:
        client = Client(srv.url, device_id=device, platform=platform)
        clients.append(client)
        await client.login("alice", sig("alice"))
        return client

    try:
        phone = await login("phone-1", platform=2)
        kicked: list[int] = []
        phone.events.kicked.add(lambda code, desc: kicked.append(code))
        desktop = await login("desktop", platform=1)
        await desktop.conversations.create(1, "alice")
        assert kicked == []  # another platform: both stay
        await login("phone-2", platform=2)
        await until(phone, lambda: bool(kicked))
        assert kicked == [ErrorCode.ERR_LOGIN_KICKED_OFF_BY_OTHER]
        # The displaced phone may not slip back in automatically …
        assert await raw_login(srv.url, "alice", "phone-1", 2, resume=True) == 6208
        # … but the user logging in again on it takes over.
        assert await raw_login(srv.url, "alice", "phone-1", 2, resume=False) == 0
    finally:
        for client in clients:
            await client.close()
        await srv.stop()


async def test_usersig_expiring_while_connected_ends_the_session(server: Server) -> None:
    client = Client(server.url)
    expired = asyncio.Event()
    client.events.sig_expired.add(expired.set)
    await client.login("alice", sig("alice", expire=1))
    try:
        async with asyncio.timeout(5):  # the sig's own lifetime is the clock here
            await expired.wait()
        assert client.login_status is LoginStatus.LOGGED_OUT
    finally:
        await client.close()
