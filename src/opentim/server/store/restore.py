"""Restoring a backup: put a SQLite backup in place of a data directory's database.

After any restore the database gets a new identity (``Store.rotate_database_id``): a backup
carries the identity of the database it was taken from, and devices that synced from that
database after the backup was taken must notice that its history was replaced (identity.py).
``opentim restore`` does both; docs/operations.md is the operator's procedure.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from .base import StoreError


def put_sqlite_backup(backup: Path, target: Path) -> None:
    """Replace the database ``target`` with the contents of ``backup`` (an opentim SQLite
    database, as ``sqlite3 .backup`` or ``VACUUM INTO`` make it).

    Raises:
        StoreError: the backup is not an opentim database, or ``target`` is in use (a server
            is running on it).
    """
    if not backup.is_file():
        raise StoreError(f"no backup file at {backup}")
    try:
        src = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open {backup}: {exc}") from exc
    with contextlib.closing(src):
        try:
            check = src.execute("PRAGMA quick_check").fetchone()[0]
            tables = {r[0] for r in src.execute("SELECT name FROM sqlite_master")}
        except sqlite3.Error as exc:
            raise StoreError(f"{backup} is not a SQLite database: {exc}") from exc
        if check != "ok":
            raise StoreError(f"{backup} is damaged: {check}")
        if not {"meta", "messages", "schema_version"} <= tables:
            raise StoreError(f"{backup} is not an opentim database")
        target.parent.mkdir(parents=True, exist_ok=True)
        dst = sqlite3.connect(target, timeout=0, isolation_level=None)
        with contextlib.closing(dst):
            try:
                # Leaving WAL needs the only connection: a running server makes this fail.
                dst.execute("PRAGMA journal_mode = DELETE")
            except sqlite3.OperationalError as exc:
                raise StoreError(
                    f"{target} is in use ({exc}): stop every server on it, then restore"
                ) from exc
            src.backup(dst)
