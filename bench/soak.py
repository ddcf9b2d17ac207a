"""Soak: a long run at half capacity with disconnects, slow readers, hostile frames and a SIGKILL.

Setup: ``opentim serve`` on SQLite (a subprocess, fixed port so it can be restarted in place);
``--users`` users, each with two devices (asyncio SDK clients with their own local caches),
in a few small groups. First, ``--probe`` seconds unthrottled measure what this setup carries
(messages/s acknowledged); the soak then offers half of that for ``--minutes`` minutes:
random C2C messages (one in ten to a group), from random devices, on a fixed schedule.

Meanwhile: every ``--cut-every`` seconds a random device's connection is cut (it reconnects by
itself); ``--slow`` extra connections log in as busy users and read one frame a second (the
server must drop them, not buffer for them); a hostile connection sends fuzzed frames
(``tests/fuzzing.py``) at ``--hostile-rate``; halfway through, the server is killed with SIGKILL
and started again on the same data directory and port.

Every minute one line: the server's RSS, messages offered/acknowledged, deliveries, cuts. At the
end, with the load stopped, every device must converge: it has received every acknowledged
message of its user's conversations exactly once (its own sends aside), and both devices of a
user show the same unread counts. The exit code says whether all that held.

Usage: ``python bench/soak.py [--minutes 30] [--users 40] [--probe 20]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from _common import SDKAPPID, SECRET_KEY, ServerProcess, machine
from opentim.protocol import ConvType, GroupType, Message, make_usersig
from opentim.sdk import Client, SdkError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.fuzzing import Fuzzer

GROUP_SIZE = 5


def sig(user: str) -> str:
    return make_usersig(SECRET_KEY, SDKAPPID, user, int(time.time()), 86400 * 7)


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Device:
    user: str
    name: str
    client: Client
    got: Counter[str] = field(default_factory=Counter)
    """msg_id → times the app was handed it (must end at 1)."""
    sent: set[str] = field(default_factory=set)


@dataclass
class Tally:
    offered: int = 0
    acked: int = 0
    failed: int = 0
    cuts: int = 0
    hostile_frames: int = 0
    slow_dropped: int = 0
    acked_ids: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    """user → msg_ids acknowledged in their conversations."""


class Soak:
    def __init__(self, args: argparse.Namespace, url: str, cache: Path) -> None:
        self.args = args
        self.url = url
        self.cache = cache
        self.rng = random.Random(args.seed)
        self.users = [f"u{i:03d}" for i in range(args.users)]
        self.groups: dict[str, list[str]] = {}
        self.devices: list[Device] = []
        self.tally = Tally()
        self.stop = asyncio.Event()

    # --- setup ------------------------------------------------------------------------------
    async def start_devices(self) -> None:
        for user in self.users:
            for name in ("a", "b"):
                client = Client(
                    self.url,
                    device_id=f"{user}-{name}",
                    data_dir=self.cache / f"{user}-{name}",
                    reconnect_delay=(0.1, 2.0),
                )
                device = Device(user, name, client)
                client.events.new_messages.add(
                    lambda msgs, d=device: d.got.update(m.msg_id for m in msgs)
                )
                await client.login(user, sig(user))
                self.devices.append(device)
        for device in self.devices:
            await device.client.wait_synced(60)
        owners = self.devices[::2]
        for i in range(0, len(self.users) - GROUP_SIZE + 1, GROUP_SIZE * 2):
            members = self.users[i : i + GROUP_SIZE]
            owner = owners[i].client
            gid = await owner.groups.create(f"g{i}", GroupType.PRIVATE, members=members[1:])
            self.groups[gid] = members

    # --- load -------------------------------------------------------------------------------
    async def send_one(self) -> None:
        device = self.rng.choice(self.devices)
        if self.groups and self.rng.random() < 0.1:
            mine = [g for g, m in self.groups.items() if device.user in m]
            if mine:
                gid = self.rng.choice(mine)
                await self._send(device, ConvType.GROUP, gid, self.groups[gid])
                return
        peer = self.rng.choice([u for u in self.users if u != device.user])
        await self._send(device, ConvType.C2C, peer, [device.user, peer])

    async def _send(self, device: Device, conv_type: int, conv_id: str, users: list[str]) -> None:
        self.tally.offered += 1
        client = device.client
        msg = client.messages.new_message([{"elem_type": 0, "text_elem_content": "soak"}])
        device.sent.add(msg.msg_id)
        try:
            stored: Message = await client.messages.send(conv_type, conv_id, msg)
        except SdkError:
            self.tally.failed += 1
            return
        self.tally.acked += 1
        for user in users:
            self.tally.acked_ids[user].add(stored.msg_id)

    async def offer(self, rate: float, seconds: float) -> None:
        """Send at ``rate`` per second for ``seconds`` (open loop: never waits for acks)."""
        tasks: set[asyncio.Task[None]] = set()
        t0 = time.perf_counter()
        n = 0
        while not self.stop.is_set():
            due = t0 + n / rate
            now = time.perf_counter()
            if due - t0 >= seconds:
                break
            if due > now:
                await asyncio.sleep(due - now)  # the schedule, not a race workaround
            task = asyncio.ensure_future(self.send_one())
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            n += 1
        if tasks:
            await asyncio.gather(*tasks)

    async def probe(self, seconds: float) -> float:
        """Acknowledged messages per second with 64 sends always outstanding."""
        before = self.tally.acked
        deadline = time.perf_counter() + seconds

        async def loop() -> None:
            while time.perf_counter() < deadline:
                await self.send_one()

        t0 = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(64)))
        return (self.tally.acked - before) / (time.perf_counter() - t0)

    # --- chaos ------------------------------------------------------------------------------
    async def cutter(self) -> None:
        while not self.stop.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.args.cut_every):
                    await self.stop.wait()
            conn = self.rng.choice(self.devices).client._conn
            ws = getattr(conn, "_ws", None)
            if ws is not None and ws.transport is not None:
                ws.transport.abort()
                self.tally.cuts += 1

    async def slow_reader(self, user: str) -> None:
        while not self.stop.is_set():
            try:
                async with connect(self.url, max_size=None) as ws:
                    body = {"user_id": user, "user_sig": sig(user), "sdkappid": SDKAPPID}
                    await ws.send(
                        msgspec.json.encode(
                            {
                                "t": "req",
                                "id": 1,
                                "op": "login",
                                "body": body | {"device_id": "slow"},
                            }
                        )
                    )
                    while not self.stop.is_set():
                        await ws.recv(decode=False)
                        await asyncio.sleep(1.0)  # the slow reader this is about
            except (ConnectionClosed, OSError):
                self.tally.slow_dropped += 1
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(1.0):
                        await self.stop.wait()

    async def hostile(self) -> None:
        fuzzer = Fuzzer(
            random.Random(self.args.seed), users=tuple(self.users), groups=tuple(self.groups)
        )
        n = 0
        while not self.stop.is_set():
            try:
                async with connect(self.url, max_size=None) as ws:
                    await self._hostile_login(ws)
                    while not self.stop.is_set():
                        n += 1
                        await ws.send(fuzzer.frame(n))
                        self.tally.hostile_frames += 1
                        await asyncio.sleep(1 / self.args.hostile_rate)
            except (ConnectionClosed, OSError):
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.2):
                        await self.stop.wait()

    async def _hostile_login(self, ws: ClientConnection) -> None:
        user = "hostile"
        body = {"user_id": user, "user_sig": sig(user), "sdkappid": SDKAPPID}
        await ws.send(msgspec.json.encode({"t": "req", "id": 0, "op": "login", "body": body}))

    # --- convergence ------------------------------------------------------------------------
    async def converge(self, timeout: float) -> dict[str, Any]:
        deadline = time.perf_counter() + timeout
        while True:
            missing = self.missing()
            if not missing or time.perf_counter() > deadline:
                break
            await asyncio.sleep(0.5)  # polling the end state once the load has stopped
        duplicates = sum(sum(c - 1 for c in d.got.values() if c > 1) for d in self.devices)
        unread_mismatch = await self.unread_mismatches()
        return {
            "devices_missing_messages": len(missing),
            "messages_missing": sum(missing.values()),
            "duplicates": duplicates,
            "unread_mismatches": unread_mismatch,
        }

    def missing(self) -> dict[str, int]:
        out = {}
        for d in self.devices:
            expected = self.tally.acked_ids[d.user] - d.sent
            lacking = len(expected - set(d.got))
            if lacking:
                out[f"{d.user}-{d.name}"] = lacking
        return out

    async def unread_mismatches(self) -> int:
        by_user: dict[str, list[dict[str, int]]] = defaultdict(list)
        for d in self.devices:
            await d.client.wait_synced(60)
            by_user[d.user].append({c.conv_id: c.unread for c in d.client.conversations.list()})
        return sum(1 for views in by_user.values() if any(v != views[0] for v in views))


async def run(args: argparse.Namespace, server: ServerProcess, cache: Path) -> dict[str, Any]:
    soak = Soak(args, server.url, cache)
    await soak.start_devices()
    capacity = await soak.probe(args.probe)
    rate = capacity / 2
    print(
        json.dumps({"capacity_msgs_per_s": round(capacity), "soak_rate": round(rate)}), flush=True
    )
    chaos = [asyncio.ensure_future(soak.cutter()), asyncio.ensure_future(soak.hostile())]
    busiest = soak.users[: args.slow]
    chaos += [asyncio.ensure_future(soak.slow_reader(u)) for u in busiest]
    minutes: list[dict[str, Any]] = []
    killed = False
    for minute in range(args.minutes):
        if not killed and minute >= args.minutes // 2:
            os.kill(server.pid, signal.SIGKILL)
            server._proc.wait()  # type: ignore[union-attr]
            server.start()
            killed = True
        await soak.offer(rate, 60)
        t = soak.tally
        line = {
            "minute": minute + 1,
            "rss_mb": rss_mb(server.pid),
            "offered": t.offered,
            "acked": t.acked,
            "failed": t.failed,
            "cuts": t.cuts,
            "slow_dropped": t.slow_dropped,
            "hostile_frames": t.hostile_frames,
            "restarted": killed,
        }
        minutes.append(line)
        print(json.dumps(line), flush=True)
    soak.stop.set()
    await asyncio.gather(*chaos, return_exceptions=True)
    result = await soak.converge(args.converge)
    for d in soak.devices:
        await d.client.close()
    return {"capacity": round(capacity), "rate": round(rate), "minutes": minutes, **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=int, default=30)
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--probe", type=float, default=20.0)
    parser.add_argument("--cut-every", type=float, default=5.0)
    parser.add_argument("--slow", type=int, default=3)
    parser.add_argument("--hostile-rate", type=float, default=50.0)
    parser.add_argument("--converge", type=float, default=120.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = ServerProcess(Path(tmp) / "data", extra_args=["--port", str(port)])
        with server:
            report = asyncio.run(run(args, server, Path(tmp) / "cache"))
            log = server.log_path.read_text(errors="replace")
    report["tracebacks_in_log"] = log.count("Traceback")
    report["machine"] = machine()
    rss = [m["rss_mb"] for m in report["minutes"]]
    half = len(rss) // 2
    report["rss_first_half_max_mb"] = max(rss[:half], default=0)
    report["rss_second_half_max_mb"] = max(rss[half:], default=0)
    print(json.dumps(report, indent=2))
    ok = (
        report["messages_missing"] == 0
        and report["duplicates"] == 0
        and report["unread_mismatches"] == 0
        and report["tracebacks_in_log"] == 0
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
