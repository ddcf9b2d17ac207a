"""Make the upgrade fixtures with the PREVIOUS release (files the next release must open).

Run it against the release being superseded, from this checkout (the script adds only its own
folder to ``sys.path``; the release comes first through PYTHONPATH)::

    git worktree add ../prev <previous release commit>
    PYTHONPATH=../prev/src .venv/bin/python tests/upgrade/make_fixtures.py \
        tests/upgrade/fixtures/prev-0.1.0 [--postgres postgresql://postgres@127.0.0.1:5432/test]

It writes, in the given folder:

- ``server/``: a SQLite server data directory (``opentim.db``, ``secret_key``) holding C2C and
  group conversations of alice, bob and carol, messages, read positions, drafts, a pin, marks,
  custom data and a conversation group (``scenario.play``);
- ``alice/``: alice's SDK cache (the ``data_dir`` of ``opentim.sdk.Client``, and the
  ``sdk_config_config_file_path`` of the TIM layer: the cache file and the device id), with one
  message left in its outbox, as an app killed while offline leaves it;
- ``expected.json``: each user's conversation list and every conversation's messages as the
  previous release showed them (``scenario.view`` and ``scenario.history``);
- with ``--postgres``: ``postgres.sql`` (a ``pg_dump`` of a schema made by the previous release's
  migrations, with the same history) and ``expected-postgres.json``.

tests/upgrade/test_upgrade.py opens copies of these with today's code and compares.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(1, str(Path(__file__).parent))

import scenario

import opentim
from opentim.protocol import ConvType, make_usersig
from opentim.sdk import Client
from opentim.server.app import Server
from opentim.server.config import DEFAULT_SDKAPPID, ServerConfig
from opentim.tim.manager import load_device_id

PG_SCHEMA = scenario.PG_SCHEMA


def sig(user_id: str) -> str:
    return make_usersig(scenario.SECRET_KEY, DEFAULT_SDKAPPID, user_id, int(time.time()), 86400)


async def record(server: Server, cache_dir: Path | None) -> dict[str, Any]:
    """Play the scenario on a started server; return what each user sees."""
    clients: dict[str, Client] = {}
    for user in scenario.USERS:
        cached = user == scenario.CACHED_USER and cache_dir is not None
        client = Client(
            server.url,
            data_dir=cache_dir if cached else None,
            device_id=load_device_id(cache_dir) if cached and cache_dir else None,
        )
        await client.login(user, sig(user))
        await client.wait_synced(10)
        clients[user] = client
    await scenario.play(clients)
    for client in clients.values():
        await client.close()
    # Fresh logins: each view is the server's, and alice's cache gets the final state.
    expected: dict[str, Any] = {"release": opentim.__version__, "users": {}}
    for user in scenario.USERS:
        cached = user == scenario.CACHED_USER and cache_dir is not None
        client = Client(
            server.url,
            data_dir=cache_dir if cached else None,
            device_id=load_device_id(cache_dir) if cached and cache_dir else None,
        )
        await client.login(user, sig(user))
        await client.wait_synced(10)
        expected["users"][user] = {
            "view": scenario.view(client),
            "history": await scenario.history(client),
        }
        if cached and client.store is not None:
            out = client.messages.new_message(scenario.text(scenario.QUEUED_TEXT))
            client.store.add_outbox((ConvType.C2C, "bob"), out, time.time_ns())
            await client.store.flush()
            expected["queued_msg_id"] = out.msg_id
        await client.close()
    return expected


def compact(db: Path) -> None:
    """Fold the WAL into the file, so one small file holds the whole database."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("VACUUM")
    finally:
        conn.close()


def write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False) + "\n")


async def make_sqlite(out: Path) -> None:
    server_dir, cache_dir = out / "server", out / "alice"
    for folder in (server_dir, cache_dir):
        shutil.rmtree(folder, ignore_errors=True)
    server_dir.mkdir(parents=True)
    (server_dir / "secret_key").write_text(scenario.SECRET_KEY + "\n")
    server = Server(ServerConfig(port=0, data_dir=server_dir))
    await server.start()
    try:
        expected = await record(server, cache_dir)
    finally:
        await server.stop()
    compact(server_dir / "opentim.db")
    for db in cache_dir.glob("*.db"):
        compact(db)
    write_json(out / "expected.json", expected)


def pg_dump(base_url: str) -> str:
    """The fixture schema as SQL (psql restores it)."""
    url = urlsplit(base_url)
    return subprocess.run(
        [
            "pg_dump",
            "--no-owner",
            "--no-privileges",
            "--schema",
            PG_SCHEMA,
            "-h",
            url.hostname or "127.0.0.1",
            "-p",
            str(url.port or 5432),
            "-U",
            url.username or "postgres",
            url.path.lstrip("/"),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


async def make_postgres(out: Path, base_url: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(base_url)
    try:
        await admin.execute(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")
        await admin.execute(f"CREATE SCHEMA {PG_SCHEMA}")
    finally:
        await admin.close()
    sep = "&" if "?" in base_url else "?"
    store = f"{base_url}{sep}search_path={PG_SCHEMA}"
    scratch = out / f".scratch-{secrets.token_hex(4)}"
    server = Server(
        ServerConfig(port=0, data_dir=scratch, store=store, secret_key=scenario.SECRET_KEY)
    )
    await server.start()
    try:
        expected = await record(server, None)
    finally:
        await server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    (out / "postgres.sql").write_text(pg_dump(base_url))
    write_json(out / "expected-postgres.json", expected)
    admin = await asyncpg.connect(base_url)
    try:
        await admin.execute(f"DROP SCHEMA {PG_SCHEMA} CASCADE")
    finally:
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("out", type=Path, help="e.g. tests/upgrade/fixtures/prev-0.1.0")
    parser.add_argument("--postgres", help="a PostgreSQL URL: also write postgres.sql")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    asyncio.run(make_sqlite(args.out))
    if args.postgres:
        asyncio.run(make_postgres(args.out, args.postgres))
    print(f"fixtures of opentim {opentim.__version__} written to {args.out}")


if __name__ == "__main__":
    main()
