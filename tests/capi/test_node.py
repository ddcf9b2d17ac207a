"""A Node program calls libImSDK through koffi (from npm, prebuilt): the seed scenarios."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .support import EXIT_LAG, Library, Served, need_tool, run_seed_pair, timings

pytestmark = pytest.mark.e2e
NODE_DIR = Path(__file__).resolve().parent / "node"


@pytest.fixture(scope="session")
def koffi() -> None:
    """Node and koffi are here (checked before the library is built)."""
    need_tool("the Node test", shutil.which("node") is not None, "node (apt-get install nodejs)")
    need_tool(
        "the Node test",
        (NODE_DIR / "node_modules" / "koffi").is_dir(),
        f"koffi (npm ci --prefix {NODE_DIR})",
    )


def test_seed_scenarios_from_node_through_koffi(
    koffi: None, libimsdk: Library, served: Served, tmp_path: Path
) -> None:
    alice, bob = run_seed_pair(
        ["node", str(NODE_DIR / "seed.cjs")],
        served,
        tmp_path,
        {"OPENTIM_LIBIMSDK": str(libimsdk.directory / "libImSDK.so")},
    )
    assert alice.returncode == 0, alice.stderr
    assert "alice done" in alice.stdout
    assert bob.returncode == 0, bob.stderr
    assert "bob got: hello from Node" in bob.stdout
    assert alice.exit_lag < EXIT_LAG
    assert bob.exit_lag < EXIT_LAG
    timings["node alice run"] = alice.seconds
