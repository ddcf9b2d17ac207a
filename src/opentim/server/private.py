"""Files only the server's own user may read: the secret key and the SQLite database (with its
``-wal`` and ``-shm`` files), in a data directory made ``0700``. Each file is created with its
final mode, never written first and restricted after."""

from __future__ import annotations

import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) as ``0700``; an existing directory is left as is."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)


def create_private_file(path: Path, data: bytes) -> None:
    """Write a new file that is ``0600`` from its first byte; fails if ``path`` exists."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def private_database(path: Path) -> None:
    """Make the SQLite file ``0600`` before SQLite opens it: a new one is created so (SQLite gives
    its ``-wal`` and ``-shm`` files the database's mode), and one left readable by others by an
    older version loses those bits, with its ``-wal`` and ``-shm`` files."""
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE))
    for each in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            mode = stat.S_IMODE(each.stat().st_mode)
        except FileNotFoundError:
            continue
        if mode & ~FILE_MODE:
            each.chmod(mode & FILE_MODE)
