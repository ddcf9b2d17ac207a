"""Server configuration: flags, ``OPENTIM_<FLAG>`` environment variables, defaults (DESIGN §2)."""

from __future__ import annotations

import secrets
import ssl
from dataclasses import dataclass, field
from pathlib import Path

from opentim.protocol import limits

DEFAULT_SDKAPPID = 1400000000
DEFAULT_PORT = 9000
DEFAULT_DATA_DIR = "./opentim-data"
SECRET_KEY_FILE = "secret_key"
DB_FILE = "opentim.db"


@dataclass
class Limits:
    """The limits of DESIGN §7 that a deployment may change (defaults as the reference)."""

    convs_per_call: int = limits.MAX_CONVS_PER_CALL
    marked_convs: int = limits.MAX_MARKED_CONVS
    conv_groups: int = limits.MAX_CONV_GROUPS
    conv_group_name_bytes: int = limits.MAX_CONV_GROUP_NAME_BYTES
    convs_per_group: int = limits.MAX_CONVS_PER_GROUP
    custom_data_bytes: int = limits.MAX_CUSTOM_DATA_BYTES
    recv_opt_users: int = limits.MAX_RECV_OPT_USERS
    revoke_seconds: int = limits.REVOKE_TIME_LIMIT


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
    one_session_per_platform: bool = False
    """Tencent's stricter device policy: a login replaces the user's session on the same
    platform (the default replaces only a session with the same device id)."""
    limits: Limits = field(default_factory=Limits)
    tls_cert: Path | None = None
    """A PEM certificate chain: with ``tls_key``, the node serves ``wss://`` instead of ``ws://``."""
    tls_key: Path | None = None
    """The PEM private key of ``tls_cert``."""

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


def tls_context(config: ServerConfig) -> ssl.SSLContext | None:
    """The server's TLS context when a certificate and key are configured (both or neither).

    Raises:
        ConfigError: only one of them is given, or they cannot be loaded.
    """
    if config.tls_cert is None and config.tls_key is None:
        return None
    if config.tls_cert is None or config.tls_key is None:
        raise ConfigError("TLS needs both --tls-cert and --tls-key")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(config.tls_cert, config.tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"cannot load the TLS certificate {config.tls_cert} and key {config.tls_key}: {exc}"
        ) from exc
    return context


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
