"""The server's secrets are its own (issue 9, finding 8): the data directory is made 0700, the
secret key and the SQLite files are 0600 from the start, and files an older version left
readable by others are closed on the next start."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from opentim.server.config import SECRET_KEY_FILE, load_or_create_secret_key
from opentim.server.store.sqlite import SqliteStore

from ..backends.test_store_contract import c2c


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The common default umask (files 0644), under which the old code leaked."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_secret_key_is_never_readable_by_others(
    tmp_path: Path, open_umask: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    created: list[int] = []
    real_open = os.open

    def watch(path: str, flags: int, mode: int = 0o777) -> int:
        fd = real_open(path, flags, mode)
        created.append(stat.S_IMODE(os.fstat(fd).st_mode))
        return fd

    data = tmp_path / "data"
    monkeypatch.setattr(os, "open", watch)
    key, made = load_or_create_secret_key(data)
    monkeypatch.undo()
    assert made
    assert created == [0o600], "the file is 0600 before the key is written"
    assert mode(data) == 0o700
    assert mode(data / SECRET_KEY_FILE) == 0o600
    assert load_or_create_secret_key(data) == (key, False)


async def test_sqlite_files_are_private(tmp_path: Path, open_umask: object) -> None:
    path = tmp_path / "data" / "opentim.db"
    store = SqliteStore(path)
    await store.open()
    try:
        await store.messages.append(c2c("a", "b", "m1"), 100)
        files = list(path.parent.iterdir())
        assert {p.name for p in files} >= {"opentim.db", "opentim.db-wal", "opentim.db-shm"}
        assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}
        assert mode(path.parent) == 0o700
    finally:
        await store.close()


async def test_files_an_older_version_left_readable_are_closed(
    tmp_path: Path, open_umask: object
) -> None:
    path = tmp_path / "opentim.db"
    store = SqliteStore(path)
    await store.open()
    await store.close()
    path.chmod(0o644)
    reopened = SqliteStore(path)
    await reopened.open()
    try:
        assert mode(path) == 0o600
        assert await reopened.messages.history("a", 1, "b", 0, 10) == []
    finally:
        await reopened.close()
