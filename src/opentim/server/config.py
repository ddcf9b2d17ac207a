"""Server configuration (DESIGN §2): plain dataclasses, the single source of every setting.

``Limits`` and ``ServerConfig`` are what the server reads; tests build them directly.
``opentim serve`` fills them from flags, ``OPENTIM_*`` variables and a TOML file through
``server/settings.py``, which derives its validated model from these fields: a field added here
is a setting of the file and the environment at once (and of ``--help``'s list); a flag for it is
one line in ``cli.py``. Each field's type is what the file and environment are checked against.
"""

from __future__ import annotations

import dataclasses
import os
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from opentim.protocol import ErrorCode, OpenTimError, limits

from .defaults import (
    DB_FILE as DB_FILE,
    DEFAULT_DATA_DIR as DEFAULT_DATA_DIR,
    DEFAULT_PORT as DEFAULT_PORT,
    DEFAULT_SDKAPPID as DEFAULT_SDKAPPID,
    SECRET_KEY_FILE as SECRET_KEY_FILE,
    load_or_create_secret_key as load_or_create_secret_key,
    new_secret_key as new_secret_key,
    read_secret_key as read_secret_key,
    save_secret_key as save_secret_key,
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
    members_page: int = limits.MAX_MEMBERS_PAGE
    """Members per page of a group's member list (``TIMGroupGetMemberInfoList``)."""

    # --- connections and rates (docs/security.md "Connections and rates") -------------------
    outbox_bytes: int = 4 * 1024 * 1024
    """Bytes waiting to go to one connection; a device that falls further behind is
    disconnected (close 1008) and resyncs when it reconnects. Must exceed the frame limit."""
    login_timeout: float = 10.0
    """Seconds from accepting a connection to a successful login (handshake included); then
    the connection is closed (1008)."""
    prelogin_frame_bytes: int = 4096
    """Largest frame accepted before login (close 1009 above it); a login needs about 500."""
    anon_conns_per_ip: int = 256
    """Connections not yet logged in, per client address; more are answered HTTP 429 (9506)."""
    logins_per_ip_rate: float = 100.0
    """Login attempts per second per client address (token bucket refill); 9506 above it."""
    logins_per_ip_burst: int = 1000
    """Login attempts per client address in one burst (the bucket's size)."""
    conn_rate: float = 20_000.0
    """Requests per second per connection (token bucket refill); 9506 above it."""
    conn_burst: int = 20_000
    """Requests per connection in one burst."""
    user_rate: float = 20_000.0
    """Requests per second per user over all of its connections on this node; 9506 above it."""
    user_burst: int = 20_000
    """Requests per user in one burst."""
    conns_per_user: int = 16
    """Logged-in connections per user on this node; a login beyond it is refused with 9506."""
    user_requests_in_flight: int = 2
    """Requests (other than sends) of one user served at once; the rest of that user's wait,
    so one user's load cannot fill the store reader's queue ahead of everyone else."""
    ping_interval: float = 20.0
    """Seconds between keepalive pings to each connection."""
    ping_timeout: float = 20.0
    """Seconds for the pong; counted from the ping, however much output is still queued."""


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
    trusted_proxies: list[str] = field(default_factory=list)
    """Addresses or networks (``10.0.0.5``, ``10.0.0.0/8``) of load balancers that send the
    PROXY protocol header (v1 or v2); from them, the header's source address is the client's
    for per-address limits and logs. Any other peer's PROXY header is refused."""

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


ENV_PREFIX = "OPENTIM_"
"""``OPENTIM_PORT``; a limit is ``OPENTIM_LIMITS__REVOKE_SECONDS``."""
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_LOG_LEVEL: Final = "WARNING"


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


def settable(cls: Any) -> list[dataclasses.Field[Any]]:
    """A config dataclass's fields that are settings: all but those marked
    ``field(metadata={"setting": False})`` (something only code can give, e.g. a callable)."""
    return [f for f in dataclasses.fields(cls) if f.metadata.get("setting", True)]


def setting_defaults() -> dict[str, Any]:
    """Every top-level setting of ``opentim serve`` (``log_level`` first) and its default;
    ``limits`` apart (``settable(Limits)``). Standard library only: ``--help`` needs it."""
    out: dict[str, Any] = {"log_level": DEFAULT_LOG_LEVEL}
    for f in settable(ServerConfig):
        if f.name != "limits":
            if f.default is not dataclasses.MISSING:
                out[f.name] = f.default
            elif f.default_factory is not dataclasses.MISSING:
                out[f.name] = f.default_factory()
            else:
                out[f.name] = None
    return out


def check_writable_dir(path: Path, what: str, flag: str) -> None:
    """Check, creating nothing, that ``path`` is a directory this process can write in, or can
    be created as one (its nearest existing parent is).

    Raises:
        ConfigError: one line naming the problem and the fix (``flag`` names the setting).
    """
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{what} {path} is a file, not a directory: pass {flag} a directory")
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(f"{what} {path} cannot be created ({existing} is a file): fix {flag}")
    if not os.access(existing, os.W_OK | os.X_OK):
        made = "is not writable" if existing == path else f"cannot be created in {existing}"
        raise ConfigError(
            f"{what} {path} {made} by this user: fix its permissions or pass {flag} elsewhere"
        )


class ConfigError(OpenTimError):
    """A setting that cannot work: an unknown store or bus URL, a bad config file, a data
    directory that cannot be written, a port in use. Its message is one line naming the fix."""

    show_code = False

    def __init__(self, desc: str) -> None:
        super().__init__(ErrorCode.ERR_INVALID_PARAMETERS, desc)
