"""The built wheel, installed without extras into a fresh virtual environment, as an app developer
gets it from ``pip install opentim``: the SDK and the TIM layer import, ``opentim usersig``
works, ``opentim serve`` names the extra to install; with ``[server]``, ``opentim migrate`` runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from opentim.protocol import verify_usersig
from opentim.server.defaults import DEFAULT_SDKAPPID

ROOT = Path(__file__).resolve().parent.parent
KEY = "k" * 64

pytestmark = pytest.mark.slow


def run(*args: str | Path, check: bool = True, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run outside the checkout (no ``tests`` or ``src`` on the path)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        timeout=300,
        check=check,
        env=env,
        cwd=cwd,
    )


def test_wheel_without_extras_is_the_sdk(tmp_path: Path) -> None:
    dist, venv = tmp_path / "dist", tmp_path / "venv"
    run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", dist, ROOT, cwd=tmp_path)
    (wheel,) = dist.glob("opentim-*.whl")
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    python, opentim = venv / "bin" / "python", venv / "bin" / "opentim"
    run(python, "-m", "pip", "install", "-q", wheel, cwd=tmp_path)

    probe = (
        "import importlib.util as u, opentim, opentim.sdk, opentim.tim; print(opentim.__file__);"
        "print(*[m for m in ('pydantic_settings', 'asyncpg', 'redis', 'nats', 'tests')"
        " if u.find_spec(m)])"
    )
    where, missing = run(python, "-c", probe, cwd=tmp_path).stdout.splitlines()
    assert Path(where).is_relative_to(venv)
    assert missing == ""  # none of the extras' packages came along

    sig = run(opentim, "usersig", "alice", "--secret-key", KEY, cwd=tmp_path).stdout.strip()
    assert verify_usersig(KEY, DEFAULT_SDKAPPID, "alice", sig, int(time.time())) > 0

    data_dir = tmp_path / "data"
    serve = run(opentim, "serve", "--data-dir", data_dir, "--port", "0", check=False, cwd=tmp_path)
    assert serve.returncode == 1
    assert serve.stderr.splitlines() == [serve.stderr.strip()]
    assert "pip install 'opentim[server]'" in serve.stderr
    assert not data_dir.exists()

    run(python, "-m", "pip", "install", "-q", f"{wheel}[server]", cwd=tmp_path)
    migrate = run(opentim, "migrate", "--data-dir", data_dir, cwd=tmp_path)
    assert (data_dir / "opentim.db").exists(), migrate
    pg = run(opentim, "migrate", "--store", "postgresql://127.0.0.1:1/x", check=False, cwd=tmp_path)
    assert pg.returncode == 1
    assert pg.stderr.count("\n") == 1
    assert "pip install 'opentim[postgres]'" in pg.stderr
