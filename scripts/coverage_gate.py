"""The coverage gate: after the README's test command (pytest under ``coverage run``), combine the
data files of every process (the test run and the servers and CLIs it started), print coverage
per package (statements and branches together, as coverage.py counts them) and fail when a
package is under its ``fail_under`` in pyproject.toml's ``[tool.opentim.coverage_gate]``.

Usage: .venv/bin/python scripts/coverage_gate.py [--no-combine]
"""

from __future__ import annotations

import json
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

import coverage

ROOT = Path(__file__).resolve().parent.parent
SRC = "src/opentim/"


@dataclass
class Figures:
    statements: int = 0
    covered_statements: int = 0
    branches: int = 0
    covered_branches: int = 0

    def add(self, summary: dict[str, int]) -> None:
        self.statements += summary["num_statements"]
        self.covered_statements += summary["covered_lines"]
        self.branches += summary.get("num_branches", 0)
        self.covered_branches += summary.get("covered_branches", 0)

    @property
    def percent(self) -> float:
        total = self.statements + self.branches
        covered = self.covered_statements + self.covered_branches
        return 100.0 * covered / total if total else 100.0


def package_of(path: str, packages: list[str]) -> str:
    """The gated package a source file belongs to: the longest listed prefix of its module
    (``opentim`` for the top-level modules: the package's own, the demo, the extras)."""
    module = path.removeprefix(SRC).removesuffix(".py").removesuffix("/__init__")
    module = module.replace("/", ".")
    best = ""
    for package in packages:
        if (module == package or module.startswith(package + ".")) and len(package) > len(best):
            best = package
    return best or "opentim"


def main(argv: list[str]) -> int:
    gates: dict[str, float] = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"][
        "opentim"
    ]["coverage_gate"]["fail_under"]
    cov = coverage.Coverage(config_file=str(ROOT / "pyproject.toml"))
    try:
        if "--no-combine" not in argv:
            cov.combine(keep=False)
            cov.save()
        cov.load()
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "coverage.json"
            cov.json_report(outfile=str(out))
            files: dict[str, dict[str, dict[str, int]]] = json.loads(out.read_text())["files"]
    except coverage.exceptions.NoDataError as exc:
        print(f"coverage gate: no coverage data ({exc}); run the README's test command first")
        return 1
    figures: dict[str, Figures] = {package: Figures() for package in gates}
    for path, data in files.items():
        rel = (
            Path(path).resolve().relative_to(ROOT).as_posix() if Path(path).is_absolute() else path
        )
        package = package_of(rel, list(gates))
        figures.setdefault(package, Figures()).add(data["summary"])
    failed = []
    print(f"{'package':<18} {'stmts':>6} {'miss':>5} {'branch':>6} {'bmiss':>5} {'cover':>7} gate")
    for package, fig in sorted(figures.items()):
        gate = gates.get(package)
        ok = gate is not None and fig.percent >= gate
        if not ok:
            failed.append(package)
        print(
            f"{package:<18} {fig.statements:>6} {fig.statements - fig.covered_statements:>5} "
            f"{fig.branches:>6} {fig.branches - fig.covered_branches:>5} {fig.percent:>6.2f}% "
            + (f"{gate:g}" if gate is not None else "none")
            + ("" if ok else "  FAILED")
        )
    if failed:
        print(f"coverage gate failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
