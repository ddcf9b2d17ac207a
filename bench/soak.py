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
from tests.fuzzing import Fuzzer, raw_login

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
    got_seqs: dict[tuple[int, str], list[tuple[int, float]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    """conversation → (seq, time) of each message handed to the app, in order (diagnostics)."""
    sent_seqs: dict[tuple[int, str], list[tuple[int, float]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    """conversation → (seq, ack time) of this device's own acknowledged sends (diagnostics)."""
    cut_times: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Acked:
    """An acknowledged message, for diagnosing one that a device never got."""

    msg_id: str
    conv_type: int
    conv_id: dict[str, str]
    """user → the conversation's id as that user sees it."""
    seq: int
    sender: str
    """The sending device."""
    acked_at: float


@dataclass
class Tally:
    offered: int = 0
    acked: int = 0
    failed: int = 0
    cuts: int = 0
    hostile_frames: int = 0
    hostile_refusals: Counter[str] = field(default_factory=Counter)
    """How the hostile connection was stopped (a close, an HTTP 429 …), by exception name."""
    slow_dropped: int = 0
    acked_ids: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    """user → msg_ids acknowledged in their conversations."""
    acked_msgs: dict[str, Acked] = field(default_factory=dict)
    restarts: list[tuple[float, float]] = field(default_factory=list)
    """(killed at, started again at), on the soak's clock."""


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
        self.t0 = time.perf_counter()

    def now(self) -> float:
        """Seconds since the soak began (the clock of every diagnostic)."""
        return time.perf_counter() - self.t0

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
                client.events.new_messages.add(lambda msgs, d=device: self._got(d, msgs))
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

    def _got(self, device: Device, msgs: list[Message]) -> None:
        device.got.update(m.msg_id for m in msgs)
        now = self.now()
        for m in msgs:
            key = (m.conv_type, m.conv_id_for(device.user))
            device.got_seqs[key].append((m.seq, now))

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
        key = (conv_type, stored.conv_id_for(device.user))
        device.sent_seqs[key].append((stored.seq, self.now()))
        self.tally.acked_msgs[stored.msg_id] = Acked(
            stored.msg_id,
            conv_type,
            {u: stored.conv_id_for(u) for u in users},
            stored.seq,
            f"{device.user}-{device.name}",
            self.now(),
        )

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
            await self._pause(self.args.cut_every if self.args.cut_every > 0 else 5)
            if self.args.cut_every <= 0 or self.stop.is_set():
                continue
            device = self.rng.choice(self.devices)
            ws = getattr(device.client._conn, "_ws", None)
            if ws is not None and ws.transport is not None:
                ws.transport.abort()
                self.tally.cuts += 1
                device.cut_times.append(self.now())

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
                await self._pause(1.0)

    async def hostile(self) -> None:
        """Fuzzed frames at ``--hostile-rate``; the answers are read (and dropped), so the
        connection is hostile but not also a slow reader."""
        fuzzer = Fuzzer(
            random.Random(self.args.seed), users=tuple(self.users), groups=tuple(self.groups)
        )
        n = 0
        while not self.stop.is_set():
            try:
                ws = await raw_login(self.url, "hostile", sig("hostile"), SDKAPPID)
            except Exception as exc:  # refused at the handshake (429), closed, timed out …
                self.tally.hostile_refusals[type(exc).__name__] += 1
                await self._pause(0.2)
                continue
            drain = asyncio.ensure_future(self._drain(ws))
            try:
                while not self.stop.is_set() and not drain.done():
                    n += 1
                    async with asyncio.timeout(5):
                        await ws.send(fuzzer.frame(n))
                    self.tally.hostile_frames += 1
                    await asyncio.sleep(1 / self.args.hostile_rate)
            except Exception as exc:
                self.tally.hostile_refusals[type(exc).__name__] += 1
                await self._pause(0.2)
            finally:
                drain.cancel()
                with contextlib.suppress(ConnectionClosed, OSError, TimeoutError):
                    async with asyncio.timeout(2):
                        await ws.close()

    @staticmethod
    async def _drain(ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for _ in ws:
                pass

    async def _pause(self, seconds: float) -> None:
        """Wait ``seconds``, or less if the soak stops."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self.stop.wait()

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
        result: dict[str, Any] = {
            "devices_missing_messages": len(missing),
            "messages_missing": sum(missing.values()),
            "duplicates": duplicates,
            "unread_mismatches": unread_mismatch,
        }
        if missing:
            result["missing_examples"] = await self.diagnose()
        return result

    async def diagnose(self, per_device: int = 3, window: float = 5.0) -> list[dict[str, Any]]:
        """A few missing messages per device, with what the device knows of their
        conversation and what happened around the time they were acknowledged."""
        out: list[dict[str, Any]] = []
        for d in self.devices:
            lacking = sorted(
                (
                    self.tally.acked_msgs[i]
                    for i in self.tally.acked_ids[d.user] - d.sent - set(d.got)
                ),
                key=lambda a: a.acked_at,
            )
            engine = d.client.engine
            for a in lacking[:per_device]:
                key = (a.conv_type, a.conv_id[d.user])
                conv = d.client.conversations.cached(*key)
                seqs = d.got_seqs.get(key, [])
                before = [s for s, _ in seqs if s < a.seq]
                after = [s for s, _ in seqs if s > a.seq]
                try:
                    found = await d.client.messages.history(*key, before_seq=a.seq + 1, count=1)
                    on_server = bool(found) and found[0].msg_id == a.msg_id
                except SdkError as exc:
                    on_server = f"history failed: {exc}"
                out.append(
                    {
                        "device": f"{d.user}-{d.name}",
                        "missing_of_device": len(lacking),
                        "conv": list(key),
                        "seq": a.seq,
                        "sender": a.sender,
                        "acked_at": round(a.acked_at, 2),
                        "delivered": engine.delivered.get(key),
                        "target": engine.targets.get(key),
                        "cached_max_seq": None if conv is None else conv.max_seq,
                        "filler_running": key in engine.fillers,
                        "handed_seqs_around": [
                            (s, round(t, 2)) for s, t in seqs if abs(s - a.seq) <= 3
                        ],
                        "first_handed_seq": seqs[0] if seqs else None,
                        "own_sends_around": [
                            (s, round(t, 2))
                            for s, t in d.sent_seqs.get(key, [])
                            if abs(s - a.seq) <= 3
                        ],
                        "handed_below": len(before),
                        "handed_above": len(after),
                        "cuts_near": [
                            round(t, 2) for t in d.cut_times if abs(t - a.acked_at) <= window
                        ],
                        "restart_near": [
                            [round(k, 2), round(r, 2)]
                            for k, r in self.tally.restarts
                            if k - window <= a.acked_at <= r + window
                        ],
                        "on_server_at_seq": on_server,
                        "resyncs": engine.resyncs,
                        "full_passes": engine.full_passes,
                    }
                )
        return out

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
        if args.kill and not killed and minute >= args.minutes // 2:
            killed_at = soak.now()
            os.kill(server.pid, signal.SIGKILL)
            server._proc.wait()  # type: ignore[union-attr]
            server.start()
            soak.tally.restarts.append((killed_at, soak.now()))
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
            "hostile_stopped": dict(t.hostile_refusals),
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
    parser.add_argument(
        "--cut-every", type=float, default=5.0, help="seconds between cuts (0: no cuts)"
    )
    parser.add_argument(
        "--kill",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="SIGKILL and restart the server halfway (--no-kill: never)",
    )
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
