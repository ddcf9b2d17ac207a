"""Offline-first SDK: cold start from the local cache, initial sync, catch-up after being away.

Setup: as ``conv_list.py``, one user with N C2C conversations (one message from each of N
peers) is written through the store's own write path before ``opentim serve`` starts.

What is measured:
  (a) initial sync on a new device: a fresh ``Client`` with a local cache directory, from
      ``login()`` until ``wait_synced()``; N = 10,000 and 100,000 (1,000 and 10,000 with
      ``--quick``), with the server's CPU time;
  (b) cold start: a new ``Client`` on that cache directory, with no network at all, from
      ``open_cache()`` until ``conversations.list()`` returns all N;
  (c) catch-up: the device goes away, 100 peers send 10 messages each (1,000 messages across
      100 conversations), and the device comes back: from ``login()`` until every missed
      message reached the app (new-message events) and every gap is filled.

Targets: cold start with 10,000 cached conversations <= 100 ms; initial sync 10,000 <= 2 s,
100,000 <= 20 s; catch-up of 1,000 messages across 100 conversations <= 1 s.

Usage: ``python bench/offline_sync.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import SDKAPPID, SECRET_KEY, ServerProcess, busy_cores, machine
from conv_list import OWNER, prefill
from opentim.protocol import ConvType, make_usersig
from opentim.sdk import Client


def sig(user: str) -> str:
    return make_usersig(SECRET_KEY, SDKAPPID, user, int(time.time()))


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


async def initial_sync(url: str, cache: Path) -> tuple[float, int]:
    client = Client(url, device_id="bench-device", data_dir=cache)
    t0 = time.perf_counter()
    await client.login(OWNER, sig(OWNER))
    await client.wait_synced(600)
    took = time.perf_counter() - t0
    listed = len(client.conversations.list())
    await client.close()
    return took, listed


async def cold_start(cache: Path) -> tuple[float, int]:
    client = Client("ws://127.0.0.1:9/ws", device_id="bench-device", data_dir=cache)
    t0 = time.perf_counter()
    await client.open_cache(OWNER)
    listed = len(client.conversations.list())
    took = time.perf_counter() - t0
    await client.close()
    return took, listed


async def catch_up(url: str, cache: Path, peers: int = 100, each: int = 10) -> dict[str, Any]:
    senders = []
    for i in range(peers):
        peer = Client(url)
        await peer.login(f"peer{i:06d}", sig(f"peer{i:06d}"))
        senders.append(peer)
    for peer in senders:
        for n in range(each):
            await peer.messages.send_text(ConvType.C2C, OWNER, f"while away {n}")
    for peer in senders:
        await peer.close()
    expected = peers * each
    device = Client(url, device_id="bench-device", data_dir=cache)
    got: list[str] = []
    done = asyncio.Event()

    def on_messages(msgs: list[Any]) -> None:
        got.extend(m.msg_id for m in msgs)
        if len(got) >= expected:
            done.set()

    device.events.new_messages.add(on_messages)
    t0 = time.perf_counter()
    await device.login(OWNER, sig(OWNER))
    await device.wait_synced(120)
    async with asyncio.timeout(120):
        await done.wait()
    await device.engine.settle()
    took = time.perf_counter() - t0
    full_passes = device.engine.full_passes
    await device.close()
    return {
        "catch_up_ms": ms(took),
        "messages": len(got),
        "distinct": len(set(got)),
        "full_passes": full_passes,
    }


async def run(sizes: list[int]) -> dict[str, Any]:
    results: dict[str, Any] = {"machine": machine(), "busy_cores_before": busy_cores()}
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="opentim-bench-") as tmp:
            root = Path(tmp)
            data = root / "data"
            data.mkdir()
            setup = await prefill(data / "opentim.db", n)
            server = ServerProcess(data)
            url = server.start()
            try:
                cpu0 = server.cpu_seconds()
                sync_s, synced = await initial_sync(url, root / "cache")
                cpu = server.cpu_seconds() - cpu0
                cold_s, cold_listed = await cold_start(root / "cache")
                row: dict[str, Any] = {
                    "setup_s": round(setup, 1),
                    "initial_sync_ms": ms(sync_s),
                    "synced": synced,
                    "sync_server_cpu_ms": ms(cpu),
                    "cold_start_ms": ms(cold_s),
                    "cold_listed": cold_listed,
                }
                if n == sizes[0]:
                    row.update(await catch_up(url, root / "cache"))
            finally:
                server.stop()
            results[str(n)] = row
            print(f"{n} conversations: {json.dumps(row)}", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 conversations")
    args = parser.parse_args()
    sizes = [1_000, 10_000] if args.quick else [10_000, 100_000]
    print(f"offline_sync: {machine()}", flush=True)
    results = asyncio.run(run(sizes))
    first, last = results[str(sizes[0])], results[str(sizes[-1])]
    print(
        f"(a) initial sync: {sizes[0]}: {first['initial_sync_ms']} ms; "
        f"{sizes[-1]}: {last['initial_sync_ms']} ms"
    )
    print(
        f"(b) cold start from cache: {sizes[0]}: {first['cold_start_ms']} ms; "
        f"{sizes[-1]}: {last['cold_start_ms']} ms"
    )
    print(
        f"(c) catch-up of {first['messages']} missed messages over 100 conversations: "
        f"{first['catch_up_ms']} ms ({first['full_passes']} full passes in that login)"
    )
    print(json.dumps({"bench": "offline_sync", "quick": args.quick, **results}))


if __name__ == "__main__":
    main()
