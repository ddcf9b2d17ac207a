"""A C# program calls libImSDK through P/Invoke on Mono: the seed scenarios."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from .support import EXIT_LAG, Library, Served, need_tool, run_seed_pair, timings

pytestmark = pytest.mark.e2e
SOURCE = Path(__file__).resolve().parent / "csharp" / "Seed.cs"


@pytest.fixture(scope="session")
def mono() -> None:
    """Mono's compiler and runtime are here (checked before the library is built)."""
    found = shutil.which("mcs") is not None and shutil.which("mono") is not None
    need_tool("the C# test", found, "mono (apt-get install mono-mcs mono-runtime)")


def test_seed_scenarios_from_csharp_through_pinvoke(
    mono: None, libimsdk: Library, served: Served, tmp_path: Path
) -> None:
    exe = tmp_path / "seed.exe"
    started = time.monotonic()
    subprocess.run(["mcs", "-nologo", f"-out:{exe}", str(SOURCE)], check=True, timeout=120)
    timings["mcs Seed.cs"] = time.monotonic() - started
    alice, bob = run_seed_pair(
        ["mono", str(exe)],
        served,
        tmp_path,
        {"LD_LIBRARY_PATH": str(libimsdk.directory)},
    )
    assert alice.returncode == 0, alice.stderr
    assert "alice done" in alice.stdout
    assert bob.returncode == 0, bob.stderr
    assert "bob got: hello from C#" in bob.stdout
    assert alice.exit_lag < EXIT_LAG
    assert bob.exit_lag < EXIT_LAG
    timings["mono alice run"] = alice.seconds
