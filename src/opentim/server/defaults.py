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


def load_or_create_secret_key(data_dir: Path) -> tuple[str, bool]:
    """The data directory's secret key, made (64 random hex characters) on first use.

    Returns the key and whether it was just created.
    """
    path = data_dir / SECRET_KEY_FILE
    if path.exists():
        return path.read_text().strip(), False
    make_private_dir(data_dir)
    key = secrets.token_hex(32)
    create_private_file(path, (key + "\n").encode())
    return key, True
