"""An SDK-only install (``pip install opentim``, no extras) as the ``opentim`` command sees it.

The CLI runs in a subprocess where the packages of the extras cannot be imported (a meta-path
finder refuses them): ``usersig`` works, the server commands and backends say in one line which
extra to install. test_wheel.py checks the same on a real install of the built wheel.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from opentim.protocol import verify_usersig
from opentim.server.defaults import DEFAULT_SDKAPPID

# What each extra brings that `pip install opentim` does not (typer brings pydantic and rich).
INSTALL_DOC = (Path(__file__).resolve().parent.parent / "docs" / "install.md").read_text()
SERVER_ONLY = ("pydantic_settings", "dotenv")
BACKENDS = ("asyncpg", "redis", "hiredis", "nats")

RUN_BLOCKED = """
import sys
blocked = set(sys.argv[1].split(","))

class Block:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Block())
sys.argv = ["opentim", *sys.argv[2:]]
if sys.argv[1:2] == ["--import"]:
    import opentim.sdk, opentim.tim
    print("imported")
else:
    from opentim.cli import main
    main()
"""


def opentim(blocked: tuple[str, ...], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", RUN_BLOCKED, ",".join(blocked), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_one_line(result: subprocess.CompletedProcess[str], extra: str) -> None:
    assert result.returncode == 1, result
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("opentim: ")
    assert f"pip install 'opentim[{extra}]'" in lines[0]


def test_sdk_only_usersig_works_and_sdk_imports() -> None:
    blocked = SERVER_ONLY + BACKENDS
    result = opentim(blocked, "usersig", "alice", "--secret-key", "k" * 64)
    assert result.returncode == 0, result.stderr
    sig = result.stdout.strip()
    expire = verify_usersig("k" * 64, DEFAULT_SDKAPPID, "alice", sig, int(time.time()))
    assert expire > 0
    assert opentim(blocked, "--import").stdout == "imported\n"


@pytest.mark.parametrize("command", [["serve"], ["migrate"], ["demo"]])
def test_sdk_only_server_commands_name_the_server_extra(tmp_path: Path, command: list[str]) -> None:
    data_dir = tmp_path / "data"
    args = [*command] if command == ["demo"] else [*command, "--data-dir", str(data_dir)]
    result = opentim(SERVER_ONLY + BACKENDS, *args)
    assert_one_line(result, "server")
    assert "opentim " + command[0] in result.stderr
    if command == ["serve"]:
        assert result.stderr.strip() in INSTALL_DOC  # the example in docs/install.md
    assert not data_dir.exists()


@pytest.mark.parametrize(
    ("flag", "url", "extra"),
    [
        ("--store", "postgresql://postgres@127.0.0.1:1/test", "postgres"),
        ("--bus", "redis://127.0.0.1:1", "redis"),
        ("--bus", "nats://127.0.0.1:1", "nats"),
    ],
)
def test_server_without_a_backend_names_its_extra(
    tmp_path: Path, flag: str, url: str, extra: str
) -> None:
    data_dir = tmp_path / "data"
    result = opentim(BACKENDS, "serve", "--data-dir", str(data_dir), "--port", "0", flag, url)
    assert_one_line(result, extra)
    assert not data_dir.exists()
    if extra == "postgres":
        assert result.stderr.strip() in INSTALL_DOC
    if flag == "--store":
        migrate = opentim(BACKENDS, "migrate", "--data-dir", str(data_dir), flag, url)
        assert_one_line(migrate, extra)
