"""The ``opentim`` command as a user runs it: a real process, real signals."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from opentim.sdk import Client, ConvType

pytestmark = pytest.mark.e2e
OPENTIM = [sys.executable, "-c", "from opentim.cli import main; main()"]


async def start_serve(data_dir: Path, *args: str) -> tuple[asyncio.subprocess.Process, str]:
    env = {**os.environ, "OPENTIM_DATA_DIR": str(data_dir)}
    proc = await asyncio.create_subprocess_exec(
        *OPENTIM, "serve", "--port", "0", *args, env=env, stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    async with asyncio.timeout(20):
        while True:
            line = (await proc.stdout.readline()).decode()
            assert line, "server exited before listening"
            if line.startswith("opentim listening on "):
                return proc, line.removeprefix("opentim listening on ").strip()


async def usersig(data_dir: Path, user: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        *OPENTIM, "usersig", user, "--data-dir", str(data_dir), stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0
    return out.decode().strip()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_serve_mints_a_key_accepts_its_sigs_and_stops_cleanly(
    tmp_path: Path, sig: signal.Signals
) -> None:
    proc, url = await start_serve(tmp_path)
    try:
        assert url.startswith("ws://127.0.0.1:")
        assert url.endswith("/ws")
        assert len((tmp_path / "secret_key").read_text().strip()) == 64
        alice = Client(url)
        await alice.login("alice", await usersig(tmp_path, "alice"))
        bob = Client(url)
        await bob.login("bob", await usersig(tmp_path, "bob"))
        msg = await alice.messages.send_text(ConvType.C2C, "bob", "hello")
        assert msg.seq == 1
        await alice.close()
        await bob.close()
    finally:
        proc.send_signal(sig)
        async with asyncio.timeout(20):
            rest, _ = await proc.communicate()
    assert proc.returncode == 0
    assert b"opentim stopped" in rest


async def test_usersig_without_a_key_explains_itself(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        *OPENTIM, "usersig", "alice", "--data-dir", str(tmp_path), stderr=asyncio.subprocess.PIPE
    )
    _, err = await proc.communicate()
    assert proc.returncode == 2
    assert b"no secret key" in err


async def test_demo_chats_and_prints_every_users_list() -> None:
    proc = await asyncio.create_subprocess_exec(*OPENTIM, "demo", stdout=asyncio.subprocess.PIPE)
    async with asyncio.timeout(60):
        out, _ = await proc.communicate()
    assert proc.returncode == 0
    text = out.decode()
    assert "== alice: total unread 0" in text
    assert "== bob: total unread 3" in text
    assert "== carol: total unread 1" in text
    assert '"conv_is_pinned": true' in text
    assert '"draft_user_define": "typing"' in text
