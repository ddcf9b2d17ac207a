"""Wire a server together: store, bus, services, gateway; start and stop it."""

from __future__ import annotations

import contextlib
import errno
import secrets
import socket
import time
from collections.abc import Callable
from pathlib import Path

from opentim.extras import MissingExtraError, require_extra

from .bus.base import Bus
from .bus.local import LocalBus
from .config import (
    ConfigError,
    ServerConfig,
    check_writable_dir,
    new_secret_key,
    read_secret_key,
    save_secret_key,
    tls_context,
)
from .gateway.dispatch import Services
from .gateway.relay import Relay
from .gateway.sessions import SessionRegistry
from .gateway.websocket import WS_PATH, Gateway
from .services.blocks import Blacklists
from .services.conversations import ConversationService
from .services.extensions import ExtensionService
from .services.friends import FriendService
from .services.groups import GroupService
from .services.messages import MessageService
from .services.pins import PinService
from .services.presence import PresenceService
from .services.push import PushService
from .services.reactions import ReactionService
from .services.users import UserService
from .store.base import Store
from .store.sqlite import SqliteStore


class Server:
    """One opentim node. ``await start()``, then ``url``; ``await stop()`` to shut down."""

    def __init__(
        self,
        config: ServerConfig,
        *,
        store: Store | None = None,
        bus: Bus | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.clock = clock
        self.store: Store = store or make_store(config)
        self.bus: Bus = bus or make_bus(config)
        self.node_id = config.node_id or secrets.token_hex(3)
        self.relay: Relay | None = None
        self.services: Services | None = None
        """The services, once started (``services.presence.audiences`` takes more sources of
        who hears of a profile change)."""
        self.secret_key_created = False
        self._key_to_save: str | None = None
        self.port = 0
        self.tls = tls_context(config)
        self._gateway: Gateway | None = None

    @property
    def url(self) -> str:
        scheme = "ws" if self.tls is None else "wss"
        return f"{scheme}://{self.config.host}:{self.port}{WS_PATH}"

    def secret_key(self) -> str:
        """The key UserSigs are checked with: the configured one, the data directory's, or a
        new one (kept in the data directory only once ``start()`` succeeds)."""
        if self.config.secret_key is None:
            key = read_secret_key(self.config.data_dir)
            if key is None:
                key = self._key_to_save = new_secret_key()
            self.config.secret_key = key
        return self.config.secret_key

    async def start(self) -> None:
        """Check the port and the data directory, open the store (migrating it), join the bus,
        listen. The checks come first, so a failing one leaves nothing behind.

        Raises:
            ConfigError: the port cannot be had or the data directory cannot be written (the
                message names the fix).
            StoreUnavailableError, BusUnavailableError: a service is unreachable (the message
                names it); nothing is left open.
        """
        sock = listen_socket(self.config.host, self.config.port)
        new = [p for p in self._local_paths() if not p.exists()]
        try:
            await self._start(sock)
        except BaseException:
            sock.close()
            if self._key_to_save is not None:
                self.config.secret_key = self._key_to_save = None
            for path in reversed(new):  # e.g. a database made before the bus was found away
                with contextlib.suppress(OSError):
                    path.rmdir() if path.is_dir() else path.unlink()  # a directory only if empty
            raise

    def _local_paths(self) -> list[Path]:
        """What a start may create here: the data directory, the SQLite file and its companions."""
        paths = [self.config.data_dir]
        if isinstance(self.store, SqliteStore):
            db = self.store.path
            paths += [db.parent, db, *(db.with_name(db.name + s) for s in ("-wal", "-shm"))]
        return paths

    async def _start(self, sock: socket.socket) -> None:
        check_paths(self.config)
        key = self.secret_key()
        await self.store.open()
        registry = SessionRegistry(per_platform=self.config.one_session_per_platform)
        # Services publish through the relay, which also orders what the bus brings back.
        relay = self.relay = Relay(
            self.bus,
            self.store,
            registry.by_user,
            # Pub/sub may lose a push with nothing after it to show the gap: heads every 250 ms.
            heartbeat=0.25 if self.config.clustered else None,
        )
        users = UserService(
            self.store,
            sdkappid=self.config.sdkappid,
            secret_key=key,
            auto_register=self.config.auto_register,
            clock=self.clock,
            bus=relay,
            # Another node may change a profile; its announcement can be lost while the bus is
            # away, so a copy is re-read after a minute at most.
            profile_ttl=60.0 if self.config.clustered else None,
        )
        relay.on_profile_changed = users.forget
        # The same for blacklists, which every C2C send checks.
        blacklists = Blacklists(self.store, self.clock, ttl=60.0 if self.config.clustered else None)
        relay.on_blacklist_changed = blacklists.forget
        presence = PresenceService(self.store, relay, self.node_id)
        users.listeners.append(presence.profile_changed)
        push = PushService(self.store, relay, self.clock)
        # Friends hear of a user's profile changes (TIMUserInfoChangedCallback).
        presence.audiences.append(self.store.friends.holders)
        limits = self.config.limits
        messages = MessageService(self.store, relay, users, self.clock, limits, blacklists)
        conversations = ConversationService(self.store, relay, users, limits, self.clock)
        groups = GroupService(self.store, users, messages, conversations, self.clock, limits)
        friends = FriendService(self.store, relay, conversations, self.clock, blacklists)
        reactions = ReactionService(self.store, relay, messages)
        pins = PinService(self.store, relay, messages)
        extensions = ExtensionService(self.store, relay, messages)
        services = Services(
            users,
            messages,
            conversations,
            groups,
            friends,
            presence,
            push,
            reactions,
            pins,
            extensions,
        )
        self.services = services  # the administrator's paths (official accounts) use them
        try:
            await relay.start(registry.deliver)
            await presence.start()
        except BaseException:
            await self.store.close()
            raise
        if self._key_to_save is not None:
            save_secret_key(self.config.data_dir, self._key_to_save)
            self._key_to_save, self.secret_key_created = None, True
        self._gateway = Gateway(
            services,
            registry,
            f"{self.node_id}.{secrets.token_hex(2)}",
            limits,
            self.config.trusted_proxies,
        )
        self.port = await self._gateway.start(self.config.host, self.config.port, sock, self.tls)

    async def wait_nobody(self) -> None:
        """Until no session of this node counts in a user's status any more (after every client
        closed: the store then shows them offline)."""
        if self._gateway is not None:
            await self._gateway.wait_nobody()

    async def stop(self) -> None:
        """Stop accepting, close every connection, finish queued writes, close the store."""
        if self._gateway is not None:
            await self._gateway.stop()
            self._gateway = None
        if self.relay is not None:
            await self.relay.close()
            self.relay = None
        await self.store.close()


def make_store(config: ServerConfig) -> Store:
    """The store ``config.store`` names: SQLite (the default, in the data directory, or
    ``sqlite:PATH``) or PostgreSQL (``postgresql://…``)."""
    url = config.store
    if not url:
        return SqliteStore(config.db_path)
    if url.startswith("sqlite:"):
        return SqliteStore(Path(url.removeprefix("sqlite:").removeprefix("//")))
    if url.startswith(("postgresql://", "postgres://")):
        _require("postgres", "--store postgresql://")
        from .store.postgres import PostgresStore

        return PostgresStore(url)
    raise ConfigError(f"unknown store {url!r}: use postgresql://… or sqlite:PATH")


def make_bus(config: ServerConfig) -> Bus:
    """The bus ``config.bus`` names: in-process (the default), ``redis://…`` or ``nats://…``."""
    url = config.bus
    if url in ("", "local"):
        return LocalBus()
    if url.startswith(("redis://", "rediss://", "unix://")):
        _require("redis", "--bus redis://")
        from .bus.redis import RedisBus

        return RedisBus(url, config.bus_prefix)
    if url.startswith(("nats://", "tls://")):
        _require("nats", "--bus nats://")
        from .bus.nats import NatsBus

        return NatsBus(url, config.bus_prefix)
    raise ConfigError(f"unknown bus {url!r}: use redis://…, nats://… or local")


def _require(extra: str, feature: str) -> None:
    """Backends are imported only when named: their client libraries come as extras."""
    try:
        require_extra(extra, feature)
    except MissingExtraError as exc:
        raise ConfigError(str(exc)) from None


def check_paths(config: ServerConfig) -> None:
    """The files the server will write can be written; nothing is created.

    Raises:
        ConfigError: naming the directory and the setting to fix.
    """
    if config.secret_key is None or not config.store:
        check_writable_dir(config.data_dir, "data directory", "--data-dir")
    if config.store.startswith("sqlite:"):
        path = Path(config.store.removeprefix("sqlite:").removeprefix("//"))
        check_writable_dir(path.parent, "SQLite directory", "--store")


def listen_socket(host: str, port: int) -> socket.socket:
    """A socket listening on ``host``:``port`` (its first address), taken before anything else
    starts so that a port in use is the first thing said, and nothing is created before.

    Raises:
        ConfigError: the address or port cannot be had; the message names the fix.
    """
    try:
        infos = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        raise ConfigError(
            f"cannot listen on host {host!r} ({exc.strerror}): pass --host an address of this "
            "machine, e.g. 127.0.0.1 or 0.0.0.0"
        ) from None
    family, kind, proto, _, addr = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
        sock.listen(100)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise ConfigError(_bind_error(host, port, exc)) from None
    return sock


def _bind_error(host: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (
            f"port {port} on {host} is in use (another opentim?): stop what listens there, "
            "or pass --port another one (0 picks a free one)"
        )
    if exc.errno == errno.EACCES:
        return f"port {port} needs privileges on this machine: pass --port 1024 or above"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"address {host} is not one of this machine's: pass --host 127.0.0.1 or 0.0.0.0"
    return f"cannot listen on {host}:{port} ({exc.strerror}): check --host and --port"
