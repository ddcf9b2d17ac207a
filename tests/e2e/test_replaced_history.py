"""A server whose history was replaced under devices that keep their caches: restored from an
older backup the way docs/operations.md tells operators to, or a new empty database at the same
address. Devices resync, show the server's state, get every new message once, keep their outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import msgspec
import pytest

from opentim.protocol import ConvType, encode_token, parse_token
from opentim.sdk import Client
from opentim.server.app import Server
from opentim.server.config import DB_FILE

from ..conftest import SECRET_KEY, sig
from ..faults import Proxy
from ..helpers import ids, until
from ..services import POSTGRES_URL, temp_schema
from .test_offline import FAST, free_port, received, settled, state, truth

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
C2C, GROUP = ConvType.C2C, ConvType.GROUP


OPENTIM = [sys.executable, "-c", "from opentim.cli import main; main()"]


def opentim(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENTIM_SECRET_KEY": SECRET_KEY}
    return subprocess.run(
        [*OPENTIM, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def run(*cmd: str) -> None:
    """A command an operator would type (sqlite3, pg_dump, pg_restore); it must succeed."""
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr


async def serve(data: Path, port: int, store: str = "") -> asyncio.subprocess.Process:
    env = {**os.environ, "OPENTIM_SECRET_KEY": SECRET_KEY, "OPENTIM_STORE": store}
    args = ["serve", "--port", str(port), "--data-dir", str(data)]
    proc = await asyncio.create_subprocess_exec(
        *OPENTIM, *args, env=env, stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    async with asyncio.timeout(20):
        while not (await proc.stdout.readline()).startswith(b"opentim listening"):
            pass
    return proc


async def stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        await proc.wait()


@pytest.mark.parametrize(
    "how", ["restore_older_backup", "new_empty_data_dir", "backup_copied_without_restore"]
)
async def test_devices_resync_when_the_server_history_is_replaced(tmp_path: Path, how: str) -> None:
    await replace_history(tmp_path, how)


@pytest.mark.postgres
async def test_devices_resync_after_a_postgres_restore_from_an_older_dump(tmp_path: Path) -> None:
    async with temp_schema() as store:
        await replace_history(tmp_path, "restore_older_dump", store)


async def replace_history(tmp_path: Path, how: str, store: str = "") -> None:
    """Chat, back up, chat more, replace the server's history as ``how`` says, chat again."""
    port = free_port()
    url = f"ws://127.0.0.1:{port}/ws"
    data = tmp_path / "data"
    proc = await serve(data, port, store)
    bob_link = Proxy(port)  # holds bob offline while the server is switched
    await bob_link.start()
    clients: list[Client] = []

    async def device(user: str, device_id: str, cache: Path | None = None) -> Client:
        address = bob_link.url if user == "bob" else url
        client = Client(address, device_id=device_id, data_dir=cache, reconnect_delay=FAST)
        clients.append(client)
        await client.login(user, sig(user))
        await client.wait_synced()
        return client

    try:
        alice = await device("alice", "a", tmp_path / "alice")
        bob = await device("bob", "b", tmp_path / "bob")
        await alice.groups.create("g", group_id="g", members=["bob"])
        await until(bob, lambda: "g" in ids(bob))
        await settled(bob)  # the group's tip is delivered: count only what follows
        got = received(bob)
        for i in range(3):
            await alice.messages.send_text(C2C, "bob", f"before backup {i}")
        for i in range(2):
            await alice.messages.send_text(GROUP, "g", f"group before backup {i}")
        await until(bob, lambda: len(got) == 5)
        await settled(bob)
        backup = tmp_path / "backup.db"
        # The documented online backups, while the server runs (docs/operations.md).
        schema = store.partition("search_path=")[2]
        if store:
            dump = ["pg_dump", "--format=custom", f"--schema={schema}", f"--file={backup}"]
            await asyncio.to_thread(run, *dump, POSTGRES_URL)
        else:
            await asyncio.to_thread(run, "sqlite3", str(data / DB_FILE), f".backup '{backup}'")
        for i in range(3):
            await alice.messages.send_text(C2C, "bob", f"after backup {i}")
        for i in range(2):
            await alice.messages.send_text(GROUP, "g", f"group after backup {i}")
        dave = await device("dave", "d")
        await dave.messages.send_text(C2C, "bob", "only in the lost history")
        await until(bob, lambda: len(got) == 11)
        assert "dave" in ids(bob)
        switched_at = len(got)

        bob_link.go_down()
        await until(bob, lambda: not bob.connected)
        await stop(proc)
        offline = asyncio.ensure_future(bob.messages.send_text(C2C, "alice", "sent offline"))
        if how == "restore_older_backup":
            result = await asyncio.to_thread(
                opentim, "restore", str(backup), "--data-dir", str(data)
            )
            assert result.returncode == 0, result.stderr
            assert "new database identity" in result.stdout
        elif how == "restore_older_dump":
            restore = ["pg_restore", "--clean", "--if-exists", f"--dbname={POSTGRES_URL}"]
            await asyncio.to_thread(run, *restore, str(backup))
            result = await asyncio.to_thread(opentim, "restore", "--store", store)
            assert result.returncode == 0, result.stderr
            assert "new database identity" in result.stdout
        elif how == "new_empty_data_dir":
            data = tmp_path / "new-data"
        else:
            # An operator who copies the file back and skips `opentim restore`: the identity
            # is the old one, so only the conversations' seqs can tell.
            for suffix in ("-wal", "-shm"):
                (data / f"{DB_FILE}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(backup, data / DB_FILE)
        proc = await serve(data, port, store)
        await settled(alice)
        kept = how != "new_empty_data_dir"  # (in a new empty database bob and g are nobody yet)
        away = []
        if kept:
            away = [
                await alice.messages.send_text(C2C, "bob", "while bob is away"),
                await alice.messages.send_text(GROUP, "g", "group while bob is away"),
            ]
        bob_link.restore()

        async with asyncio.timeout(15):
            mine = await offline
        await settled(alice, bob)
        assert bob.engine.resyncs >= 1
        fresh = [await alice.messages.send_text(C2C, "bob", f"new {i}") for i in range(3)]
        if kept:
            fresh += [await alice.messages.send_text(GROUP, "g", f"group new {i}") for i in (0, 1)]
        new = [m.msg_id for m in away + fresh]
        await until(bob, lambda: len(got) == switched_at + len(new))
        await settled(alice, bob)

        assert Counter(got).most_common(1)[0][1] == 1  # nothing twice
        assert sorted(got[switched_at:]) == sorted(new)  # every new one
        for conv_id in ("bob", "g"):  # in order in each conversation
            mine_in_conv = [m.msg_id for m in away + fresh if m.receiver == conv_id]
            assert [i for i in got[switched_at:] if i in mine_in_conv] == mine_in_conv
        server = await truth(url, "bob")
        if how == "backup_copied_without_restore":
            # Nothing tells the device that dave's conversation is gone: the documented step
            # (opentim restore) is what makes it show the server's list exactly.
            assert state(bob)[(C2C, "alice")] == server[(C2C, "alice")]
        else:
            assert "dave" not in ids(bob)  # the server does not have that conversation
            assert ("g" in ids(bob)) is kept
            assert state(bob) == server
        history = await alice.messages.history(C2C, "bob", count=100)
        assert Counter(m.msg_id for m in history)[mine.msg_id] == 1
        bob_history = await bob.messages.history(C2C, "alice", count=100)
        server_history = await alice.messages.history(C2C, "bob", count=100)
        assert [m.msg_id for m in bob_history] == [m.msg_id for m in server_history]
    finally:
        for client in clients:
            await client.close()
        await stop(proc)
        await bob_link.stop()


async def test_restore_refuses_a_running_database_and_a_file_that_is_not_a_backup(
    tmp_path: Path,
) -> None:
    port = free_port()
    data = tmp_path / "data"
    proc = await serve(data, port)
    try:
        backup = tmp_path / "backup.db"
        await asyncio.to_thread(run, "sqlite3", str(data / DB_FILE), f".backup '{backup}'")
        result = await asyncio.to_thread(opentim, "restore", str(backup), "--data-dir", str(data))
        assert result.returncode == 1
        assert "stop every server" in result.stderr
        assert len(result.stderr.splitlines()) == 1
    finally:
        await stop(proc)
    junk = tmp_path / "notes.txt"
    junk.write_text("not a database")
    result = await asyncio.to_thread(opentim, "restore", str(junk), "--data-dir", str(data))
    assert result.returncode == 1
    assert "not" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    result = await asyncio.to_thread(opentim, "restore", str(backup), "--data-dir", str(data))
    assert result.returncode == 0, result.stderr


async def test_a_token_from_before_database_identities_resyncs_cleanly(
    server: Server, tmp_path: Path
) -> None:
    """A device cache made by the previous release holds a token without a database identity:
    its next login resyncs once in full, delivers what it missed once, and keeps its cache."""
    alice = Client(server.url, device_id="a")
    bob = Client(server.url, device_id="b", data_dir=tmp_path / "bob")
    try:
        await alice.login("alice", sig("alice"))
        await bob.login("bob", sig("bob"))
        await bob.wait_synced()
        seen = [await alice.messages.send_text(C2C, "bob", f"seen {i}") for i in range(3)]
        await until(bob, lambda: bob.engine.delivered.get((C2C, "alice")) == 3)
        await bob.close()
        # What the previous release wrote: the same token, without ``db``.
        cache = next((tmp_path / "bob").glob("*.db"))
        with contextlib.closing(sqlite3.connect(cache)) as conn, conn:
            (text,) = conn.execute("SELECT value FROM meta WHERE key = 'token'").fetchone()
            old = msgspec.structs.replace(parse_token(text), db=0)
            assert parse_token(text).db != 0
            conn.execute("UPDATE meta SET value = ? WHERE key = 'token'", (encode_token(old),))
        missed = [await alice.messages.send_text(C2C, "bob", f"missed {i}") for i in range(2)]
        bob = Client(server.url, device_id="b", data_dir=tmp_path / "bob")
        got = received(bob)
        await bob.login("bob", sig("bob"))
        await settled(bob)
        assert bob.engine.resyncs == 1
        assert got == [m.msg_id for m in missed]
        history = await bob.messages.history(C2C, "alice", count=10)
        assert [m.msg_id for m in reversed(history)] == [m.msg_id for m in seen + missed]
        assert state(bob) == await truth(server.url, "bob")
    finally:
        await alice.close()
        await bob.close()
