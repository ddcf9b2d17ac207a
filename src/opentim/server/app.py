"""Wire a server together: store, bus, services, gateway; start and stop it."""

from __future__ import annotations

import time
from collections.abc import Callable

from .bus.base import Bus
from .bus.local import LocalBus
from .config import ServerConfig, load_or_create_secret_key
from .gateway.dispatch import Services, build_handlers
from .gateway.sessions import SessionRegistry
from .gateway.websocket import WS_PATH, Gateway
from .services.conversations import ConversationService
from .services.groups import GroupService
from .services.messages import MessageService
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
        self.store: Store = store or SqliteStore(config.db_path)
        self.bus: Bus = bus or LocalBus()
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
        key = self.secret_key()
        await self.store.open()
        users = UserService(
            self.store,
            sdkappid=self.config.sdkappid,
            secret_key=key,
            auto_register=self.config.auto_register,
            clock=self.clock,
        )
        limits = self.config.limits
        messages = MessageService(self.store, self.bus, users, self.clock, limits)
        conversations = ConversationService(self.store, self.bus, users, limits, self.clock)
        groups = GroupService(self.store, users, messages, conversations, self.clock)
        services = Services(users, messages, conversations, groups)
        registry = SessionRegistry(
            self.store.get_members, per_platform=self.config.one_session_per_platform
        )
        await self.bus.start(registry.deliver)
        self._gateway = Gateway(services, build_handlers(services), registry)
        self.port = await self._gateway.start(self.config.host, self.config.port)

    async def stop(self) -> None:
        """Stop accepting, close every connection, finish queued writes, close the store."""
        if self._gateway is not None:
            await self._gateway.stop()
            self._gateway = None
        await self.bus.close()
        await self.store.close()
