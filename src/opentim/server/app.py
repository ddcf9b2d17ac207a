"""Wire a server together: store, bus, services, gateway; start and stop it."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from pathlib import Path

from .bus.base import Bus
from .bus.local import LocalBus
from .bus.nats import NatsBus
from .bus.redis import RedisBus
from .config import ConfigError, ServerConfig, load_or_create_secret_key
from .gateway.dispatch import Services, build_handlers
from .gateway.relay import Relay
from .gateway.sessions import SessionRegistry
from .gateway.websocket import WS_PATH, Gateway
from .services.conversations import ConversationService
from .services.groups import GroupService
from .services.messages import MessageService
from .services.users import UserService
from .store.base import Store
from .store.postgres import PostgresStore
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
        self.secret_key_created = False
        self.port = 0
        self._gateway: Gateway | None = None

    @property
    def url(self) -> str:
        return f"ws://{self.config.host}:{self.port}{WS_PATH}"

    def secret_key(self) -> str:
        if self.config.secret_key is None:
            self.config.secret_key, self.secret_key_created = load_or_create_secret_key(
                self.config.data_dir
            )
        return self.config.secret_key

    async def start(self) -> None:
        """Open the store (migrating it), join the bus, listen.

        Raises:
            StoreUnavailableError, BusUnavailableError: a service is unreachable (the message
                names it); nothing is left open.
        """
        key = self.secret_key()
        await self.store.open()
        registry = SessionRegistry(per_platform=self.config.one_session_per_platform)
        # Services publish through the relay, which also orders what the bus brings back.
        relay = self.relay = Relay(self.bus, self.store, registry.by_user)
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
        limits = self.config.limits
        messages = MessageService(self.store, relay, users, self.clock, limits)
        conversations = ConversationService(self.store, relay, users, limits, self.clock)
        groups = GroupService(self.store, users, messages, conversations, self.clock)
        services = Services(users, messages, conversations, groups)
        try:
            await relay.start(registry.deliver)
        except BaseException:
            await self.store.close()
            raise
        self._gateway = Gateway(
            services,
            build_handlers(services),
            registry,
            f"{self.node_id}.{secrets.token_hex(2)}",
            limits,
            self.config.trusted_proxies,
        )
        self.port = await self._gateway.start(self.config.host, self.config.port)

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
        return PostgresStore(url)
    raise ConfigError(f"unknown store {url!r}: use postgresql://… or sqlite:PATH")


def make_bus(config: ServerConfig) -> Bus:
    """The bus ``config.bus`` names: in-process (the default), ``redis://…`` or ``nats://…``."""
    url = config.bus
    if url in ("", "local"):
        return LocalBus()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBus(url, config.bus_prefix)
    if url.startswith(("nats://", "tls://")):
        return NatsBus(url, config.bus_prefix)
    raise ConfigError(f"unknown bus {url!r}: use redis://…, nats://… or local")
