"""Server defaults and the data directory's secret key.

Only the standard library and the sans-I/O protocol here: ``opentim usersig`` reads the key on
an SDK-only install, where the server's own dependencies (the ``server`` extra) may be missing.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from opentim.protocol.usersig import DEFAULT_SDKAPPID as DEFAULT_SDKAPPID

from .private import create_private_file, make_private_dir

DEFAULT_PORT = 9000
DEFAULT_DATA_DIR = "./opentim-data"
SECRET_KEY_FILE = "secret_key"
DB_FILE = "opentim.db"


def read_secret_key(data_dir: Path) -> str | None:
    """The data directory's secret key, or None when it has none yet."""
    path = data_dir / SECRET_KEY_FILE
    return path.read_text().strip() if path.exists() else None


def new_secret_key() -> str:
    """A fresh key: 64 random hex characters."""
    return secrets.token_hex(32)


def save_secret_key(data_dir: Path, key: str) -> None:
    """Keep ``key`` in the data directory (made ``0700`` if missing), ``0600`` from its first
    byte."""
    make_private_dir(data_dir)
    create_private_file(data_dir / SECRET_KEY_FILE, (key + "\n").encode())


def load_or_create_secret_key(data_dir: Path) -> tuple[str, bool]:
    """The data directory's secret key, made (64 random hex characters) on first use.

    Returns the key and whether it was just created.
    """
    key = read_secret_key(data_dir)
    if key is not None:
        return key, False
    key = new_secret_key()
    save_secret_key(data_dir, key)
    return key, True
