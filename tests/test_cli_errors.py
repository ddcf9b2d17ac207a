"""The CLI's refusals and failures, in process: one line on stderr and a non-zero exit, never a
traceback (tests/e2e/test_cli.py runs the real command for the rest)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import opentim.capi.build
import opentim.demo
from opentim.cli import main


def run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["opentim", *args])
    with pytest.raises(SystemExit) as info:
        main()
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def test_opentim_alone_prints_the_help(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(monkeypatch, capsys)
    assert code == 0
    assert "migrate" in out
    assert err == ""


def test_restore_needs_exactly_one_of_a_file_and_a_store(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(monkeypatch, capsys, "restore", "--data-dir", str(tmp_path))
    assert (code, err) == (
        1,
        "opentim: name the backup file: opentim restore BACKUP_FILE [--data-dir D]\n",
    )
    code, _, err = run(
        monkeypatch, capsys, "restore", str(tmp_path / "b.db"), "--store", "postgresql://x/y"
    )
    assert code == 1
    assert err.startswith("opentim: with --store, restore the dump with pg_restore")
    assert list(tmp_path.iterdir()) == []


def test_migrate_names_an_unreachable_store_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = "postgresql://opentim@127.0.0.1:1/opentim"
    code, _, err = run(monkeypatch, capsys, "migrate", "--store", url)
    assert code == 1
    assert err.startswith("opentim: cannot migrate: ")
    assert err.count("\n") == 1


def test_a_failed_demo_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(json_output: bool) -> None:
        raise opentim.demo.DemoError("the server did not start")

    monkeypatch.setattr(opentim.demo, "run_demo", broken)
    code, _, err = run(monkeypatch, capsys, "demo")
    assert (code, err) == (1, "demo failed: the server did not start\n")


def test_a_failed_capi_build_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def broken(out: Path, verbose: bool = False) -> None:
        raise RuntimeError("cc: not found")

    monkeypatch.setattr(opentim.capi.build, "build", broken)
    code, _, err = run(monkeypatch, capsys, "capi", "build", "--out", str(tmp_path))
    assert (code, err) == (1, "opentim: capi build failed: cc: not found\n")
