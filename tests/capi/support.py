"""Helpers for the C library's tests: ``libImSDK.so`` built once per session into a temporary
directory, the test programs compiled with the system's C compiler, and a real ``opentim serve``
subprocess per module.

Tests needing a tool that is missing here (a C compiler, node and koffi, mono) fail when ``CI``
is set; otherwise they are skipped with one loud summary line naming what to install.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from opentim.protocol import make_usersig
from opentim.sdk import Client
from opentim.server.defaults import DEFAULT_SDKAPPID, load_or_create_secret_key

from ..services import POSTGRES_URL, with_search_path

PROGRAMS = Path(__file__).resolve().parent / "programs"
OPENTIM = [sys.executable, "-c", "from opentim.cli import main; main()"]
RUN_TIMEOUT = 60.0
EXIT_LAG = 5.0
"""How long a program may take to exit after its last line of output (after TIMUninit)."""

missing_tools: dict[str, str] = {}
"""What each skipped part needs, for the summary line (tests/conftest.py prints it)."""

timings: dict[str, float] = {}


def need_tool(part: str, found: bool, install: str) -> None:
    """Skip (or, with CI set, fail) a test whose tool is missing, loudly."""
    if found:
        return
    missing_tools[part] = install
    if os.environ.get("CI"):
        pytest.fail(f"{part} needs what is missing here: {install}")
    pytest.skip(f"{part}: {install}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for part, install in missing_tools.items():
        terminalreporter.write_line(f"!!! {part} did not run: {install}", red=True, bold=True)
    if timings:
        text = ", ".join(f"{k} {v:.2f} s" for k, v in timings.items())
        terminalreporter.write_line(f"capi timings: {text}")


@dataclass(frozen=True)
class Library:
    directory: Path
    include: Path


@pytest.fixture(scope="session")
def libimsdk(tmp_path_factory: pytest.TempPathFactory) -> Library:
    """``opentim capi build --out DIR``, once per session, through the real command."""
    need_tool("the C library", shutil.which("cc") is not None, "a C compiler (apt-get install gcc)")
    out = tmp_path_factory.mktemp("capi")
    started = time.monotonic()
    result = subprocess.run(
        [*OPENTIM, "capi", "build", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    timings["build"] = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert (out / "libImSDK.so").is_file()
    return Library(out, out / "include")


_compiled: dict[str, Path] = {}


def compile_c(lib: Library, source: str) -> Path:
    """Compile ``programs/<source>`` against the generated headers, linked with -lImSDK (the
    library found at run time through its directory as rpath), once per session."""
    if source in _compiled:
        return _compiled[source]
    exe = lib.directory / Path(source).stem
    started = time.monotonic()
    result = subprocess.run(
        [
            "cc",
            "-std=c11",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-D_POSIX_C_SOURCE=200809L",
            "-I",
            str(lib.include),
            "-I",
            str(PROGRAMS),
            str(PROGRAMS / source),
            "-o",
            str(exe),
            "-L",
            str(lib.directory),
            f"-Wl,-rpath,{lib.directory}",
            "-lImSDK",
            "-lpthread",
            "-ldl",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    timings[f"cc {source}"] = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    _compiled[source] = exe
    return exe


@dataclass(frozen=True)
class Served:
    url: str
    data_dir: Path

    def sig(self, user_id: str) -> str:
        key, _ = load_or_create_secret_key(self.data_dir)
        return make_usersig(key, DEFAULT_SDKAPPID, user_id, int(time.time()), 86400)

    def register(self, user_id: str) -> None:
        """Make ``user_id`` exist on the server (its first login creates it)."""

        async def login_once() -> None:
            client = Client(self.url)
            try:
                await client.login(user_id, self.sig(user_id))
            finally:
                await client.close()

        asyncio.run(login_once())


@contextlib.contextmanager
def serve(data_dir: Path, *args: str) -> Iterator[Served]:
    """A real ``opentim serve`` on a free loopback port, its key (and SQLite file, unless
    ``--store`` says otherwise) in ``data_dir``."""
    env = {**os.environ, "OPENTIM_DATA_DIR": str(data_dir)}
    proc = subprocess.Popen(
        [*OPENTIM, "serve", "--port", "0", *args], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        url = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line, "opentim serve exited before listening"
            if line.startswith("opentim listening on "):
                url = line.removeprefix("opentim listening on ").strip()
                break
        assert url, "opentim serve did not listen in time"
        yield Served(url, data_dir)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A real ``opentim serve`` on SQLite, per test module."""
    with serve(tmp_path_factory.mktemp("serve")) as running:
        yield running


@contextlib.contextmanager
def postgres_schema() -> Iterator[str]:
    """A private schema in the test database: its store URL; dropped afterwards."""
    schema = f"opentim_t_{secrets.token_hex(6)}"

    async def execute(sql: str) -> None:
        admin = await asyncpg.connect(POSTGRES_URL)
        try:
            await admin.execute(sql)
        finally:
            await admin.close()

    asyncio.run(execute(f"CREATE SCHEMA {schema}"))
    try:
        yield with_search_path(POSTGRES_URL, schema)
    finally:
        asyncio.run(execute(f"DROP SCHEMA {schema} CASCADE"))


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str
    exit_lag: float
    """Seconds between the program's last line of output and its exit."""
    seconds: float
    """Seconds from start to exit."""


class Program:
    """A test program run as a subprocess, its output read line by line."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            args,
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self.started = self.last_line_at = time.monotonic()

    def wait_line(self, wanted: str) -> None:
        """Read output until a line equal to ``wanted`` (the program's own deadlines bound it)."""
        assert self.proc.stdout is not None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                ran = self.finish()
                raise AssertionError(f"exited ({ran.returncode}) before {wanted!r}: {ran.stderr}")
            self.lines.append(line)
            self.last_line_at = time.monotonic()
            if line.strip() == wanted:
                return

    def finish(self) -> Ran:
        assert self.proc.stdout is not None
        assert self.proc.stderr is not None
        try:
            for line in self.proc.stdout:
                self.lines.append(line)
                self.last_line_at = time.monotonic()
            self.proc.wait(RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.proc.stdout.close()
            self.proc.stderr.close()
            raise
        now = time.monotonic()
        lag = now - self.last_line_at
        err = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return Ran(self.proc.returncode, "".join(self.lines), err, lag, now - self.started)


def run(args: list[str], env: dict[str, str] | None = None) -> Ran:
    return Program(args, env).finish()


def run_seed_pair(
    command: list[str], served: Served, tmp_path: Path, env: dict[str, str] | None = None
) -> tuple[Ran, Ran]:
    """Run a seed program as bob (the server from OPENTIM_SERVER_URL) until it is ready, then
    as alice (the server from opentim.json in her config directory); their results."""
    alice_dir, bob_dir = tmp_path / "alice", tmp_path / "bob"
    alice_dir.mkdir()
    (alice_dir / "opentim.json").write_text(json.dumps({"sdk_config_server_url": served.url}))
    bob = Program(
        [*command, "bob", str(bob_dir), served.sig("bob")],
        {**(env or {}), "OPENTIM_SERVER_URL": served.url},
    )
    try:
        bob.wait_line("ready")
        alice = run(
            [*command, "alice", str(alice_dir), served.sig("alice")],
            {**(env or {}), "OPENTIM_SERVER_URL": ""},
        )
    finally:
        got = bob.finish()
    return alice, got
