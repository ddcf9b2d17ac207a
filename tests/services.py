"""Real services for tests: a private PostgreSQL schema, a private bus prefix, a TCP proxy that can
cut a connection on demand (asyncpg's ``trigger_connectivity_loss`` habit, STYLE §2.5) or send
new connections elsewhere (a balancer).

Every test that uses PostgreSQL gets its own schema in the ``test`` database (dropped after it);
every test that uses a bus gets its own key/subject prefix, so tests never see each other.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator

import asyncpg

POSTGRES_URL = os.environ.get("OPENTIM_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("OPENTIM_TEST_REDIS", "redis://127.0.0.1:6379/0")
NATS_URL = os.environ.get("OPENTIM_TEST_NATS", "nats://127.0.0.1:4222")
BUS_URLS = {"redis": REDIS_URL, "nats": NATS_URL}


def with_search_path(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}search_path={schema}"


@contextlib.asynccontextmanager
async def temp_schema(base_url: str = POSTGRES_URL) -> AsyncIterator[str]:
    """A fresh schema; yields a store URL whose connections use it. Dropped afterwards."""
    schema = f"opentim_t_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(base_url)
    try:
        await admin.execute(f"CREATE SCHEMA {schema}")
    finally:
        await admin.close()
    try:
        yield with_search_path(base_url, schema)
    finally:
        admin = await asyncpg.connect(base_url)
        try:
            await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        finally:
            await admin.close()


def bus_prefix() -> str:
    """A key/subject prefix no other test uses."""
    return f"opentim-t-{secrets.token_hex(6)}"
