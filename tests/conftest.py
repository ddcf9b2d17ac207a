"""Shared fixtures: a real server on a free loopback port with a real SQLite file, and clients.

Tests marked ``postgres``, ``redis`` or ``nats`` need that service. When it is unreachable they
fail if ``CI`` is set, and are otherwise skipped with one loud summary line naming the service and
how to start it (DESIGN §5).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from opentim.protocol import make_usersig
from opentim.sdk import Client
from opentim.server.app import Server
from opentim.server.config import DEFAULT_SDKAPPID, ServerConfig

from .faults import Proxy

SECRET_KEY = "opentim-test-secret-key"

SERVICES = {
    "postgres": (
        ("127.0.0.1", 5432),
        "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    ),
    "redis": (
        ("127.0.0.1", 6379),
        'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" '
        "--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log",
    ),
    "nats": (
        ("127.0.0.1", 4222),
        "start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- "
        "-a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log",
    ),
}
_missing: dict[str, str] = {}


def _reachable(addr: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(addr, timeout=1):
            return True
    except OSError:
        return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for name, (addr, start) in SERVICES.items():
            if item.get_closest_marker(name) is None:
                continue
            if name not in _missing and not _reachable(addr):
                _missing[name] = start
            if name in _missing and not os.environ.get("CI"):
                item.add_marker(pytest.mark.skip(reason=f"{name} is not running"))


def pytest_runtest_setup(item: pytest.Item) -> None:
    for name in _missing:
        if item.get_closest_marker(name) is not None:
            pytest.fail(f"{name} is not reachable and CI is set: start it with {SERVICES[name][1]}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for name, start in _missing.items():
        terminalreporter.write_line(
            f"!!! {name} is not reachable: its tests did not run. Start it with: {start}",
            red=True,
            bold=True,
        )


def sig(user_id: str, expire: int = 86400, key: str = SECRET_KEY) -> str:
    """A UserSig for ``user_id`` from the test secret key."""
    return make_usersig(key, DEFAULT_SDKAPPID, user_id, int(time.time()), expire)


def server_config(data_dir: Path, **kwargs: object) -> ServerConfig:
    return ServerConfig(port=0, data_dir=data_dir, secret_key=SECRET_KEY, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    """A real server on a free loopback port, its SQLite file in ``tmp_path``."""
    srv = Server(server_config(tmp_path / "data"))
    await srv.start()
    yield srv
    await srv.stop()


Login = Callable[..., Awaitable[Client]]


@pytest.fixture
async def login(server: Server) -> AsyncIterator[Login]:
    """``await login("alice")``: a logged-in, synced client; all are closed after the test."""
    clients: list[Client] = []

    async def make(user_id: str, *, device_id: str | None = None, url: str | None = None) -> Client:
        client = Client(url or server.url, device_id=device_id)
        clients.append(client)
        await client.login(user_id, sig(user_id))
        await client.wait_synced(10)
        return client

    yield make
    for client in clients:
        await client.close()


FAST = (0.02, 0.2)
"""Reconnect backoff for tests: first and longest wait, in seconds."""


@pytest.fixture
async def proxy(server: Server) -> AsyncIterator[Proxy]:
    """A TCP proxy in front of ``server`` that a test can cut (``proxy.url``)."""
    p = Proxy(server.port)
    await p.start()
    yield p
    await p.stop()
