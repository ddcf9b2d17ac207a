"""The ``opentim`` command as a user runs it: a real process, real signals."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import sys
import time
from pathlib import Path

import asyncpg
import pytest
from websockets.asyncio.client import connect

from opentim.protocol import ErrorCode, make_usersig
from opentim.sdk import Client, ConvType, SdkError
from opentim.server import settings
from opentim.server.store.schema import MIGRATIONS

from ..services import temp_schema

pytestmark = pytest.mark.e2e
OPENTIM = [sys.executable, "-c", "from opentim.cli import main; main()"]


async def start_serve(
    data_dir: Path, *args: str, stderr: int | None = None
) -> tuple[asyncio.subprocess.Process, str]:
    env = {**os.environ, "OPENTIM_DATA_DIR": str(data_dir)}
    proc = await asyncio.create_subprocess_exec(
        *OPENTIM,
        "serve",
        "--port",
        "0",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=stderr,
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
        str(tmp_path / "data"),
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
    assert names(tmp_path) == [], "no key, no database"


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


async def run_serve(cwd: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """``opentim serve ARGS`` in ``cwd`` that is expected to stop: exit code and stderr."""
    proc = await asyncio.create_subprocess_exec(
        *OPENTIM,
        "serve",
        *args,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(30):
        out, err = await proc.communicate()
    assert b"listening" not in out
    assert proc.returncode is not None
    return proc.returncode, err.decode()


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("opentim: "), lines
    assert "Traceback" not in err
    return lines[0]


START_UP_FAILURES = {
    "port in use": ((), {}, "", ("is in use", "--port")),
    "data dir is a file": (("--data-dir", "a-file"), {}, "", ("is a file", "--data-dir")),
    "data dir under a file": (("--data-dir", "a-file/data"), {}, "", ("cannot be created",)),
    "bad --log-level": (("--log-level", "bogus"), {}, "", ("--log-level = 'bogus'", "INFO")),
    "bad OPENTIM_PORT": ((), {"OPENTIM_PORT": "abc"}, "", ("OPENTIM_PORT = 'abc'", "integer")),
    "bad port in the file": ((), {}, 'port = "abc"\n', ("port in ", "= 'abc'", "integer")),
    "port out of range": (("--port", "70000"), {}, "", ("--port = 70000", "65535")),
    "bad --port type": (("--port", "abc"), {}, "", ("'--port'", "integer", "--help")),
    "unknown flag": (("--prot", "1"), {}, "", ("No such option: --prot",)),
    "bad limit in the file": ((), {}, "[limits]\nrevoke_seconds = []\n", ("limits.revoke",)),
}


@pytest.mark.parametrize("case", START_UP_FAILURES)
async def test_a_start_up_failure_is_one_line_naming_the_fix_and_creates_nothing(
    tmp_path: Path, case: str
) -> None:
    args, env, toml, expected = START_UP_FAILURES[case]
    (tmp_path / "a-file").write_text("not a directory\n")
    if toml:
        (tmp_path / "opentim.toml").write_text(toml)
        args = (*args, "--config", "opentim.toml")
    before = names(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1]) if case == "port in use" else "0"
        if "--port" not in args and "port" not in toml:  # never the default port of a real one
            env = {"OPENTIM_PORT": port, **env}
        code, err = await run_serve(tmp_path, *args, env=env)
    line = one_line(err)
    assert code != 0
    for part in expected:
        assert part in line, line
    assert names(tmp_path) == before, "nothing created"


AS_ROOT = os.geteuid() == 0
SETPRIV = shutil.which("setpriv")


@pytest.mark.skipif(AS_ROOT and SETPRIV is None, reason="root writes anywhere and no setpriv")
@pytest.mark.parametrize("data_dir", ["locked", "locked/data"])
async def test_a_data_dir_that_cannot_be_written_is_one_line(tmp_path: Path, data_dir: str) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    # Root ignores permissions: run it as root without the capabilities that let it.
    drop = (
        [SETPRIV or "setpriv", "--bounding-set=-dac_override,-dac_read_search"] if AS_ROOT else []
    )
    proc = await asyncio.create_subprocess_exec(
        *drop,
        *OPENTIM,
        "serve",
        "--port",
        "0",
        "--data-dir",
        data_dir,
        cwd=tmp_path,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(30):
        _, err = await proc.communicate()
    assert proc.returncode == 1
    line = one_line(err.decode())
    assert "is not writable" in line if data_dir == "locked" else "cannot be created" in line
    assert "--data-dir" in line
    assert names(locked) == []


async def test_a_config_file_refuses_unknown_names_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "opentim.toml").write_text(
        "no-auto-register = true\nlimits = { revoke_seconds = 5, revoke_secs = 5 }\n"
    )
    code, err = await run_serve(tmp_path, "--port", "0", "--config", "opentim.toml")
    assert code == 1
    line = one_line(err)
    assert "unknown settings in opentim.toml: limits.revoke_secs, no_auto_register" in line
    assert not (tmp_path / "opentim-data").exists()


async def test_auto_register_false_in_the_file_refuses_unknown_users(tmp_path: Path) -> None:
    config = tmp_path / "opentim.toml"
    config.write_text(
        'auto_register = false\nsecret-key = "file-key"\n[limits]\nrevoke_seconds = 5\n'
    )
    proc, url = await start_serve(tmp_path, "--config", str(config))

    def sig_of(user: str) -> str:
        return make_usersig("file-key", 1400000000, user, int(time.time()))

    try:
        client = Client(url)
        with pytest.raises(SdkError) as refused:
            await client.login("stranger", sig_of("stranger"))
        assert refused.value.code == ErrorCode.ERR_SVR_ACCOUNT_NOT_FOUND
        await client.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(20):
            await proc.communicate()
    assert proc.returncode == 0


async def test_serve_help_lists_every_setting_the_file_and_environment_take() -> None:
    proc = await asyncio.create_subprocess_exec(
        *OPENTIM,
        "serve",
        "--help",
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "COLUMNS": "400", "NO_COLOR": "1"},
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0
    text = out.decode()
    for name, env, _default in settings.describe():
        short = name.removeprefix("limits.")
        assert short in text, name
        if "." not in name:
            assert f"--{name.replace('_', '-')}" in text, f"{name} has no flag"
            assert env in text, f"--help does not name {env}"
    assert "limits.NAME" in text


async def test_info_logs_logins_logouts_and_refusals_with_codes_and_logger_names(
    tmp_path: Path,
) -> None:
    proc, url = await start_serve(
        tmp_path, "--log-level", "info", "--secret-key", "k", stderr=asyncio.subprocess.PIPE
    )
    try:
        stranger = Client(url)
        with pytest.raises(SdkError):
            await stranger.login("mallory", "not-a-user-sig")
        await stranger.close()
        async with connect(url) as raw:  # a frame the protocol itself refuses
            await raw.send("not json")
            await raw.recv()
        alice = Client(url)
        await alice.login("alice", make_usersig("k", 1400000000, "alice", int(time.time())))
        with pytest.raises(SdkError) as refused:
            await alice.groups.join("no-such-group")
        await alice.logout()
        await alice.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(20):
            _, err = await proc.communicate()
    assert proc.returncode == 0
    text = err.decode()
    code = refused.value.code
    expected = [
        "INFO opentim.server.refusals: refused login of 'mallory' on ",
        ": 70003 ",
        "INFO opentim.server.refusals: refused a frame of ",
        f": {ErrorCode.ERR_INVALID_JSON} ",
        "INFO opentim.server.gateway.websocket: login alice (device ",
        f"INFO opentim.server.refusals: refused group_join of alice: {code} ",
        "INFO opentim.server.gateway.websocket: logout alice on ",
    ]
    for part in expected:
        assert part in text, text
    assert text.index("login alice") < text.index("group_join") < text.index("logout alice")


async def test_official_accounts_are_put_and_deleted_by_the_administrator(tmp_path: Path) -> None:
    """``opentim official-account put`` then serve: a user subscribes and reads the account;
    after ``delete`` (server stopped, SQLite) it is gone."""

    async def cli(*args: str) -> bytes:
        proc = await asyncio.create_subprocess_exec(
            *OPENTIM,
            "official-account",
            *args,
            "--data-dir",
            str(tmp_path),
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await proc.communicate()
        assert proc.returncode == 0
        return out

    assert b"saved" in await cli("put", "news", "Daily News", "--organization", "Press")
    proc, url = await start_serve(tmp_path)
    try:
        client = Client(url)
        await client.login("reader", await usersig(tmp_path, "reader"))
        await client.friendship.subscribe("news")
        [found] = await client.friendship.accounts()
        assert found.account is not None
        assert (found.account.name, found.account.organization) == ("Daily News", "Press")
        await client.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        await proc.wait()
    assert b"deleted" in await cli("delete", "news")
    proc, url = await start_serve(tmp_path)
    try:
        client = Client(url)
        await client.login("reader", await usersig(tmp_path, "reader"))
        assert await client.friendship.accounts() == []
        with pytest.raises(SdkError) as info:
            await client.friendship.subscribe("news")
        assert info.value.code == ErrorCode.ERR_SVR_FRIENDSHIP_ACCOUNT_NOT_FOUND
        await client.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        await proc.wait()
