"""The coverage gate's grouping: every source file counts towards exactly the package it gates."""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("coverage_gate", ROOT / "scripts/coverage_gate.py")
assert spec is not None
assert spec.loader is not None
gate = importlib.util.module_from_spec(spec)
sys.modules["coverage_gate"] = gate  # dataclasses look their module up there
spec.loader.exec_module(gate)

GATES = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["opentim"]["coverage_gate"][
    "fail_under"
]


def test_each_file_counts_towards_its_innermost_gated_package() -> None:
    packages = list(GATES)
    assert gate.package_of("src/opentim/server/gateway/relay.py", packages) == "server.gateway"
    assert gate.package_of("src/opentim/server/app.py", packages) == "server"
    assert gate.package_of("src/opentim/server/__init__.py", packages) == "server"
    assert gate.package_of("src/opentim/protocol/__init__.py", packages) == "protocol"
    assert gate.package_of("src/opentim/cli.py", packages) == "cli"
    assert gate.package_of("src/opentim/demo.py", packages) == "opentim"
    assert gate.package_of("src/opentim/__init__.py", packages) == "opentim"


def test_every_source_file_is_gated_and_the_gates_are_the_agreed_ones() -> None:
    for path in (ROOT / "src/opentim").rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        assert gate.package_of(rel, list(GATES)) in GATES, rel
    assert GATES["protocol"] >= 98
    assert min(GATES.values()) >= 90


def test_figures_count_statements_and_branches_together() -> None:
    fig = gate.Figures()
    fig.add({"num_statements": 90, "covered_lines": 85, "num_branches": 10, "covered_branches": 5})
    assert fig.percent == 90.0
    assert gate.Figures().percent == 100.0
