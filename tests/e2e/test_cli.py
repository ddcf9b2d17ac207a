"""The ``opentim`` command as a user runs it: a real process, real signals."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import asyncpg
import pytest

from opentim.protocol import make_usersig
from opentim.sdk import Client, ConvType
from opentim.server.store.schema import MIGRATIONS

from ..services import temp_schema

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


async def run_demo(*args: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        *OPENTIM,
        "demo",
        *args,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "COLUMNS": "80"},
    )
    async with asyncio.timeout(60):
        out, _ = await proc.communicate()
    assert proc.returncode == 0
    return out.decode()


def table_rows(text: str, title: str) -> list[list[str]]:
    """The body rows of the table titled ``title`` in the demo's output, as lists of cells."""
    lines = text[text.index(title) :].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("┡")) + 1
    rows = []
    for line in lines[start:]:
        if line.startswith("└"):
            return rows
        rows.append([cell.strip() for cell in line.strip("│").split("│")])
    raise AssertionError(f"table {title!r} does not end")


async def test_demo_shows_the_chat_and_a_table_per_user() -> None:
    text = await run_demo()
    assert "alice → bob: Hi Bob, lunch today?" in text
    assert "carol → lunch-club: Count me in!" in text
    header = next(line for line in text.splitlines() if line.startswith("┃"))
    cells = [cell.strip() for cell in header.strip("┃").split("┃")]
    assert cells == ["conversation", "unread", "pinned", "draft", "last message"]
    assert table_rows(text, "alice: 2 conversations, 0 unread") == [
        ["Lunch club (group)", "0", "", "", "alice: Noon, usual place."],
        ["bob (C2C)", "0", "", "", "alice: Great, see you there."],
    ]
    assert table_rows(text, "bob: 2 conversations, 3 unread") == [
        ["Lunch club (group)", "2", "yes", "", "alice: Noon, usual place."],
        ["alice (C2C)", "1", "", "", "alice: Great, see you there."],
    ]
    assert table_rows(text, "carol: 2 conversations, 1 unread") == [
        ["alice (C2C)", "0", "", "Can I", ""],
        ["Lunch club (group)", "1", "", "", "alice: Noon, usual place."],
    ]
    assert "TIMConvGetConvList" not in text


async def test_demo_json_prints_every_users_tim_list() -> None:
    text = await run_demo("--json")
    assert "== alice: total unread 0" in text
    assert "== bob: total unread 3" in text
    assert "== carol: total unread 1" in text
    assert '"conv_is_pinned": true' in text
    assert '"draft_user_define": "typing"' in text
    assert "→" not in text
    assert "┃" not in text


@pytest.mark.parametrize(
    ("flag", "url", "service"),
    [
        ("--store", "postgresql://postgres@127.0.0.1:1/opentim", "PostgreSQL"),
        ("--bus", "redis://127.0.0.1:1/0", "Redis"),
        ("--bus", "nats://127.0.0.1:1", "NATS"),
    ],
)
async def test_serve_names_an_unreachable_service_in_one_line(
    tmp_path: Path, flag: str, url: str, service: str
) -> None:
    proc = await asyncio.create_subprocess_exec(
        *OPENTIM,
        "serve",
        "--port",
        "0",
        "--data-dir",
        str(tmp_path),
        flag,
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(30):
        out, err = await proc.communicate()
    assert proc.returncode == 1
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"opentim: cannot start: {service} at {url} is unreachable")
    assert b"listening" not in out


async def test_serve_reads_a_config_file_and_flags_win(tmp_path: Path) -> None:
    config = tmp_path / "opentim.toml"
    config.write_text('[opentim]\nnode-id = "from-file"\nport = 1\nsecret-key = "file-key"\n')
    proc, url = await start_serve(tmp_path, "--config", str(config))
    try:
        assert not url.endswith(":1/ws")  # --port 0 on the command line wins
        assert not (tmp_path / "secret_key").exists()  # the file's key is used
        client = Client(url)
        await client.login("alice", make_usersig("file-key", 1400000000, "alice", int(time.time())))
        await client.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(20):
            await proc.communicate()
    assert proc.returncode == 0


async def test_a_config_file_with_an_unknown_setting_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "opentim.toml"
    config.write_text('stroe = "postgresql://x"\n')
    proc = await asyncio.create_subprocess_exec(
        *OPENTIM, "serve", "--config", str(config), stderr=asyncio.subprocess.PIPE
    )
    _, err = await proc.communicate()
    assert proc.returncode == 1
    assert b"unknown settings" in err
    assert b"stroe" in err


@pytest.mark.postgres
async def test_migrate_brings_a_postgres_schema_up_to_date(tmp_path: Path) -> None:
    async with temp_schema() as url:
        for _ in range(2):  # a second run finds nothing to do
            proc = await asyncio.create_subprocess_exec(
                *OPENTIM, "migrate", "--store", url, stdout=asyncio.subprocess.PIPE
            )
            out, _ = await proc.communicate()
            assert proc.returncode == 0
            assert b"schema up to date" in out
        conn = await asyncpg.connect(url)
        try:
            version = await conn.fetchval("SELECT version FROM schema_version")
        finally:
            await conn.close()
        assert version == len(MIGRATIONS)
