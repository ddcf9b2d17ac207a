"""Upgrades: a server database and an SDK cache made by the previous release open with today's
code, show the same content, and keep working.

The files under fixtures/prev-0.1.0 were made by make_fixtures.py running the previous release
(0.1.0); ``expected*.json`` is what that release showed. Each test works on a copy.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import shutil
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest

from opentim.protocol import ConvType, Message
from opentim.sdk import Client
from opentim.server.app import Server
from opentim.server.config import ServerConfig
from opentim.server.store.schema import MIGRATIONS
from opentim.tim import keys as k
from opentim.tim.manager import load_device_id

from ..conftest import sig as conftest_sig
from ..services import POSTGRES_URL, with_search_path
from ..tim.conformance import Checker, Recorder
from ..tim.conftest import ServerThread, Tim
from . import scenario

FIXTURES = Path(__file__).parent / "fixtures" / "prev-0.1.0"
EXPECTED: dict[str, Any] = json.loads((FIXTURES / "expected.json").read_text())
WAIT = 10.0

pytestmark = pytest.mark.e2e


def sig(user: str) -> str:
    return conftest_sig(user, key=scenario.SECRET_KEY)


@pytest.fixture
def data(tmp_path: Path) -> tuple[Path, Path]:
    """Copies of the previous release's server data dir and alice's SDK cache."""
    server_dir, cache_dir = tmp_path / "server", tmp_path / "alice"
    shutil.copytree(FIXTURES / "server", server_dir)
    shutil.copytree(FIXTURES / "alice", cache_dir)
    return server_dir, cache_dir


@pytest.fixture
async def server(data: tuple[Path, Path]) -> AsyncIterator[Server]:
    srv = Server(ServerConfig(port=0, data_dir=data[0]))
    await srv.start()
    yield srv
    await srv.stop()


async def login(server: Server, user: str, cache_dir: Path | None = None) -> Client:
    client = Client(
        server.url,
        data_dir=cache_dir,
        device_id=None if cache_dir is None else load_device_id(cache_dir),
    )
    await client.login(user, sig(user))
    await client.wait_synced(WAIT)
    return client


async def wait_for(
    client: Client, pred: Callable[[Message], bool], action: Any = None
) -> list[Message]:
    """Messages delivered to ``client`` (after running ``action``) until one satisfies ``pred``."""
    got: list[Message] = []
    arrived = asyncio.Event()

    def on_new(msgs: list[Message]) -> None:
        got.extend(msgs)
        if any(pred(m) for m in msgs):
            arrived.set()

    remove = client.events.new_messages.add(on_new)
    try:
        if action is not None:
            await action
        async with asyncio.timeout(WAIT):
            await arrived.wait()
    finally:
        remove()
    return got


async def wait_conv(client: Client, key: tuple[int, str], pred: Callable[[Any], bool]) -> None:
    """Until ``client``'s cached conversation ``key`` satisfies ``pred``."""
    changed = asyncio.Event()
    remove = client.events.conversations.add(lambda kind, convs: changed.set())
    try:
        async with asyncio.timeout(WAIT):
            while not pred(client.conversations.cached(*key)):
                await changed.wait()
                changed.clear()
    finally:
        remove()


def is_text(value: str) -> Callable[[Message], bool]:
    return lambda m: scenario.texts(m.elems) == value


async def check_views(server: Server, expected: dict[str, Any]) -> dict[str, Client]:
    """Each user, logged in fresh, sees what the previous release showed."""
    clients = {}
    for user in scenario.USERS:
        client = clients[user] = await login(server, user)
        want = expected["users"][user]
        assert scenario.view(client) == want["view"], user
        assert await scenario.history(client) == want["history"], user
    return clients


async def check_still_works(clients: dict[str, Client]) -> None:
    """New messages continue each channel's seq; drafts and reads still take effect."""
    alice, bob, carol = (clients[u] for u in scenario.USERS)
    c2c, group = ConvType.C2C, ConvType.GROUP
    got = await wait_for(
        alice,
        is_text("after the upgrade"),
        bob.messages.send_text(c2c, "alice", "after the upgrade"),
    )
    new = next(m for m in got if is_text("after the upgrade")(m))
    assert new.seq == 4  # bob and alice had seqs 1-3
    # "how are you?" was unread before the upgrade, the new one adds to it.
    await wait_conv(alice, (c2c, "bob"), lambda c: c.max_seq == 4)
    conv = alice.conversations.cached(c2c, "bob")
    assert conv is not None
    assert (conv.unread, conv.custom_data) == (2, "custom-bob")
    got = await wait_for(
        bob, is_text("team again"), carol.messages.send_text(group, scenario.GROUP_ID, "team again")
    )
    assert next(m for m in got if is_text("team again")(m)).seq == 6
    await alice.conversations.mark_read(c2c, "bob")
    await alice.conversations.cancel_draft(c2c, "carol")
    fresh = await login_like(alice, "alice")
    bob_conv = fresh.conversations.cached(c2c, "bob")
    carol_conv = fresh.conversations.cached(c2c, "carol")
    assert bob_conv is not None
    assert bob_conv.unread == 0
    assert carol_conv is not None
    assert carol_conv.draft is None
    await fresh.close()


async def login_like(client: Client, user: str) -> Client:
    """Another device of ``user`` on the same server: the server's state, not a cache."""
    other = Client(client.server_url)
    await other.login(user, sig(user))
    await other.wait_synced(WAIT)
    return other


async def close_all(clients: dict[str, Client]) -> None:
    for client in clients.values():
        await client.close()


async def test_server_migrates_and_serves_the_previous_release_sqlite(
    data: tuple[Path, Path],
) -> None:
    server = Server(ServerConfig(port=0, data_dir=data[0]))
    await server.start()
    try:
        with contextlib.closing(sqlite3.connect(data[0] / "opentim.db")) as db:
            assert db.execute("SELECT max(version) FROM schema_version").fetchone() == (
                len(MIGRATIONS),
            )
        clients = await check_views(server, EXPECTED)
        try:
            await check_still_works(clients)
        finally:
            await close_all(clients)
    finally:
        await server.stop()
    # The migrated database opens again as it is.
    again = Server(ServerConfig(port=0, data_dir=data[0]))
    await again.start()
    try:
        bob = await login(again, "bob")
        assert [c.conv_id for c in bob.conversations.list()] == ["team", "alice"]
        await bob.close()
    finally:
        await again.stop()


async def test_sdk_cache_of_the_previous_release_lists_at_once_syncs_and_sends(
    data: tuple[Path, Path], server: Server
) -> None:
    expected = EXPECTED["users"]["alice"]["view"]
    alice = Client(server.url, data_dir=data[1], device_id=load_device_id(data[1]))
    try:
        # From the cache alone, before any network: the old list, drafts and marks included.
        # (The previous release's cache does not keep the conversation-group names: the
        # first sync brings them; each conversation's groups are cached.)
        await alice.open_cache("alice")
        assert scenario.view(alice) == {**expected, "conv_groups": []}
        bob = await login(server, "bob")
        try:
            # The message the old app left in its outbox goes out once, after the first sync.
            got = await wait_for(
                bob, is_text(scenario.QUEUED_TEXT), alice.login("alice", sig("alice"))
            )
            queued = [m for m in got if is_text(scenario.QUEUED_TEXT)(m)]
            assert [m.msg_id for m in queued] == [EXPECTED["queued_msg_id"]]
            assert alice.has_cache
            await alice.wait_synced(WAIT)
            await wait_conv(
                alice,
                (ConvType.C2C, "bob"),
                lambda c: c.last_msg.msg_id == EXPECTED["queued_msg_id"],
            )
            synced = scenario.view(alice)
            bob_conv = next(c for c in synced["convs"] if c["conv_id"] == "bob")
            old_bob = next(c for c in expected["convs"] if c["conv_id"] == "bob")
            assert bob_conv["last_msg"] == {
                "seq": 4,
                "sender": "alice",
                "text": scenario.QUEUED_TEXT,
            }
            for kept in ("marks", "custom_data", "groups", "pinned", "draft"):
                assert bob_conv[kept] == old_bob[kept]
            assert bob_conv["unread"] == 0  # sending read the conversation
            want = {
                **expected,
                "convs": [c for c in expected["convs"] if c["conv_id"] != "bob"],
                "total_unread": expected["total_unread"] - old_bob["unread"],
            }
            assert {
                **synced,
                "convs": [c for c in synced["convs"] if c["conv_id"] != "bob"],
            } == want
            # Sending and receiving both ways.
            got = await wait_for(
                bob, is_text("new from alice"), alice.messages.send_text(1, "bob", "new from alice")
            )
            assert next(m for m in got if is_text("new from alice")(m)).seq == 5
            got = await wait_for(
                alice, is_text("new from bob"), bob.messages.send_text(1, "alice", "new from bob")
            )
            assert next(m for m in got if is_text("new from bob")(m)).seq == 6
        finally:
            await bob.close()
    finally:
        await alice.close()


def test_tim_layer_reads_the_previous_release_cache(data: tuple[Path, Path]) -> None:
    srv = ServerThread(data[0])
    srv.start()
    recorder = Recorder()
    tim = Tim(srv, recorder, data[1])
    try:
        tim.login("alice")
        convs = tim.conv_list()
        expected = EXPECTED["users"]["alice"]["view"]
        assert [(c[k.CONV_TYPE], c[k.CONV_ID]) for c in convs] == [
            (c["conv_type"], c["conv_id"]) for c in expected["convs"]
        ]
        for got, want in zip(convs, expected["convs"], strict=True):
            assert got[k.CONV_UNREAD_NUM] == want["unread"]
            assert got[k.CONV_IS_PINNED] == want["pinned"]
            assert got[k.CONV_CUSTOM_DATA] == want["custom_data"]
            assert sorted(got[k.CONV_CONVERSATION_GROUP_ARRAY]) == want["groups"]
            marks = [1 << i for i in range(64) if want["marks"] >> i & 1]
            assert sorted(got[k.CONV_MARK_ARRAY]) == marks
            assert got[k.CONV_IS_HAS_DRAFT] == (want["draft"] is not None)
            if want["draft"] is not None:
                draft = got[k.CONV_DRAFT]
                elems = draft[k.DRAFT_MSG][k.MESSAGE_ELEM_ARRAY]
                assert elems[0][k.TEXT_ELEM_CONTENT] == scenario.DRAFT_TEXT
                assert draft[k.DRAFT_USER_DEFINE] == want["draft"]["user_define"]
            last = got[k.CONV_LAST_MSG]
            assert last[k.MESSAGE_SEQ] == want["last_msg"]["seq"]
            assert last[k.MESSAGE_SENDER] == want["last_msg"]["sender"]
        assert tim.total_unread() == EXPECTED["users"]["alice"]["view"]["total_unread"]
    finally:
        tim.uninit()
        srv.stop()
    problems = recorder.problems(Checker())
    assert not problems, "\n".join(problems[:20])


@pytest.fixture
async def pg_store() -> AsyncIterator[str]:
    """The previous release's PostgreSQL dump, restored into a schema of its own."""
    schema = f"opentim_upg_{secrets.token_hex(5)}"
    dump = (FIXTURES / "postgres.sql").read_text().replace(scenario.PG_SCHEMA, schema)
    url = urlsplit(POSTGRES_URL)
    psql = await asyncio.create_subprocess_exec(
        *("psql", "-q", "-X", "-v", "ON_ERROR_STOP=1", "-h", url.hostname or "127.0.0.1"),
        *("-p", str(url.port or 5432), "-U", url.username or "postgres"),
        *("-d", url.path.lstrip("/")),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await psql.communicate(dump.encode())
    assert psql.returncode == 0, out.decode()
    try:
        yield with_search_path(POSTGRES_URL, schema)
    finally:
        admin = await asyncpg.connect(POSTGRES_URL)
        try:
            await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        finally:
            await admin.close()


@pytest.mark.postgres
async def test_server_migrates_and_serves_the_previous_release_postgres(
    tmp_path: Path, pg_store: str
) -> None:
    expected = json.loads((FIXTURES / "expected-postgres.json").read_text())
    srv = Server(
        ServerConfig(port=0, data_dir=tmp_path, store=pg_store, secret_key=scenario.SECRET_KEY)
    )
    await srv.start()
    try:
        clients = await check_views(srv, expected)
        try:
            await check_still_works(clients)
        finally:
            await close_all(clients)
    finally:
        await srv.stop()


async def test_opentim_migrate_upgrades_the_previous_release_data_dir(
    data: tuple[Path, Path],
) -> None:
    migrate = await asyncio.create_subprocess_exec(
        *(sys.executable, "-c", "from opentim.cli import main; main()"),
        *("migrate", "--data-dir", str(data[0])),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await migrate.communicate()
    assert migrate.returncode == 0, out.decode()
    with contextlib.closing(sqlite3.connect(data[0] / "opentim.db")) as db:
        assert db.execute("SELECT max(version) FROM schema_version").fetchone() == (
            len(MIGRATIONS),
        )
    server = Server(ServerConfig(port=0, data_dir=data[0]))
    await server.start()
    try:
        carol = await login(server, "carol")
        assert scenario.view(carol) == EXPECTED["users"]["carol"]["view"]
        await carol.close()
    finally:
        await server.stop()
