"""Server configuration: flags, ``OPENTIM_<FLAG>`` environment variables, defaults (DESIGN §2)."""

from __future__ import annotations

import secrets
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
