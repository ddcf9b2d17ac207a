"""Server configuration: flags, ``OPENTIM_<FLAG>`` environment variables, defaults (DESIGN §2)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

DEFAULT_SDKAPPID = 1400000000
DEFAULT_PORT = 9000
DEFAULT_DATA_DIR = "./opentim-data"
SECRET_KEY_FILE = "secret_key"
DB_FILE = "opentim.db"


@dataclass
class ServerConfig:
    store: str = ""
    """``""`` (SQLite in the data directory), ``sqlite:PATH`` or ``postgresql://…``."""
    bus: str = ""
    """``""``/``local`` (in-process, one node), ``redis://…`` or ``nats://…``."""
    bus_prefix: str = "opentim"
    """Names this deployment's bus channel/subject: deployments sharing a server stay apart."""
    node_id: str = ""
    """This node's name in logs and connection ids (default: random)."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    data_dir: Path = Path(DEFAULT_DATA_DIR)
    sdkappid: int = DEFAULT_SDKAPPID
    secret_key: str | None = None
    auto_register: bool = True

    @property
    def db_path(self) -> Path:
        return self.data_dir / DB_FILE

    @property
    def secret_key_path(self) -> Path:
        return self.data_dir / SECRET_KEY_FILE

    @property
    def clustered(self) -> bool:
        """Whether other nodes may share the state (a networked bus)."""
        return self.bus not in ("", "local")


def load_or_create_secret_key(data_dir: Path) -> tuple[str, bool]:
    """The data directory's secret key, made (64 random hex characters) on first use.

    Returns the key and whether it was just created.
    """
    path = data_dir / SECRET_KEY_FILE
    if path.exists():
        return path.read_text().strip(), False
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key, True


class ConfigError(Exception):
    """A setting that cannot work: an unknown store or bus URL, a bad config file."""
