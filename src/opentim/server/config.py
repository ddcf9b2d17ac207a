"""Server configuration: flags, ``OPENTIM_<FLAG>`` environment variables, defaults (DESIGN §2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from opentim.protocol import ErrorCode, OpenTimError, limits

from .defaults import (
    DB_FILE as DB_FILE,
    DEFAULT_DATA_DIR as DEFAULT_DATA_DIR,
    DEFAULT_PORT as DEFAULT_PORT,
    DEFAULT_SDKAPPID as DEFAULT_SDKAPPID,
    SECRET_KEY_FILE as SECRET_KEY_FILE,
    load_or_create_secret_key as load_or_create_secret_key,
)


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


class ConfigError(OpenTimError):
    """A setting that cannot work: an unknown store or bus URL, a bad config file."""

    show_code = False

    def __init__(self, desc: str) -> None:
        super().__init__(ErrorCode.ERR_INVALID_PARAMETERS, desc)
