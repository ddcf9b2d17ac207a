"""A server whose history was replaced under devices that keep their caches: restored from an
older backup the way docs/operations.md tells operators to, or a new empty database at the same
address. Devices resync, show the server's state, get every new message once, keep their outbox.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from opentim.protocol import ConvType
from opentim.sdk import Client
from opentim.server.config import DB_FILE

from ..conftest import SECRET_KEY, sig
from ..faults import Proxy
from ..helpers import ids, until
from .test_offline import FAST, free_port, received, settled, start_server_process, state, truth

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
C2C = ConvType.C2C


def opentim(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENTIM_SECRET_KEY": SECRET_KEY}
    cmd = [sys.executable, "-c", "from opentim.cli import main; main()", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=False)


async def stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        await proc.wait()


@pytest.mark.parametrize(
    "how", ["restore_older_backup", "new_empty_data_dir", "backup_copied_without_restore"]
)
async def test_devices_resync_when_the_server_history_is_replaced(tmp_path: Path, how: str) -> None:
    port = free_port()
    url = f"ws://127.0.0.1:{port}/ws"
    data = tmp_path / "data"
    proc = await start_server_process(data, port)
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
        got = received(bob)
        for i in range(3):
            await alice.messages.send_text(C2C, "bob", f"before backup {i}")
        await settled(bob)
        backup = tmp_path / "backup.db"
        # The documented online backup, while the server runs.
        done = await asyncio.to_thread(
            subprocess.run,
            ["sqlite3", str(data / DB_FILE), f".backup '{backup}'"],
            check=True,
            timeout=30,
        )
        assert done.returncode == 0
        for i in range(3):
            await alice.messages.send_text(C2C, "bob", f"after backup {i}")
        dave = await device("dave", "d")
        await dave.messages.send_text(C2C, "bob", "only in the lost history")
        await until(bob, lambda: len(got) == 7)
        assert "dave" in ids(bob)

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
        elif how == "new_empty_data_dir":
            data = tmp_path / "new-data"
        else:
            # An operator who copies the file back and skips `opentim restore`: the identity
            # is the old one, so only the conversations' seqs can tell.
            for suffix in ("-wal", "-shm"):
                (data / f"{DB_FILE}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(backup, data / DB_FILE)
        proc = await start_server_process(data, port)
        await settled(alice)
        away = []
        if how != "new_empty_data_dir":  # (in a new empty database bob is nobody yet)
            away = [await alice.messages.send_text(C2C, "bob", "while bob is away")]
        bob_link.restore()

        async with asyncio.timeout(15):
            mine = await offline
        await settled(alice, bob)
        assert bob.engine.resyncs >= 1
        before_new = len(got)
        fresh = [await alice.messages.send_text(C2C, "bob", f"new {i}") for i in range(3)]
        await until(bob, lambda: len(got) == before_new + 3)
        await settled(alice, bob)

        assert Counter(got).most_common(1)[0][1] == 1  # nothing twice
        assert got[7:] == [m.msg_id for m in away + fresh]  # every new one, in order
        server = await truth(url, "bob")
        if how == "backup_copied_without_restore":
            # Nothing tells the device that dave's conversation is gone: the documented step
            # (opentim restore) is what makes it show the server's list exactly.
            assert state(bob)[(C2C, "alice")] == server[(C2C, "alice")]
        else:
            assert "dave" not in ids(bob)  # the server does not have that conversation
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
