"""End-to-end C2C messages per second and latency on the default SQLite store.

What is measured, per phase:
  * msgs/s: messages that reached their recipient during the measured window, per second. The
    store is the default SQLite file (WAL, ``synchronous=FULL``); the server acknowledges a send
    only after its commit, so every counted message is durable.
  * latency p50/p99: the recipient's receipt time minus the send time the sender wrote into the
    message's ``cloud_custom_data`` (``time.time()``: one machine, one clock), over the messages
    sent during the window. "ack" is the same from the send to the sender's durable ack.
  * server CPU µs/msg: utime+stime of the server process (every thread, /proc/<pid>/stat) over
    the window, divided by the messages acknowledged in it; the figure least distorted by the
    load generator sharing the machine (DESIGN §5a).

Phases:
  * closed-2, closed-50: 2 or 50 senders, each keeping a window of 32 sends outstanding (a new
    send as soon as an ack frees a slot), each sending to its own recipient.
  * rate-1000: 50 senders offering 1,000 msgs/s in total on a fixed schedule (open loop). The
    carried timestamp is the scheduled send time, so a generator falling behind counts against
    the latency rather than hiding it.

How: the server is ``opentim serve --port 0`` on a fresh data directory (a subprocess). The
load runs in several processes (multiprocessing, default 2), each owning a share of the
sender/recipient pairs (distinct users, all logged in before the clock starts). The load speaks
the wire protocol directly with ``websockets`` and pre-encoded request frames, and decodes only
the fields it needs from responses and pushes, so it stays far cheaper than the server (its CPU
is printed next to the server's). ``--load sdk`` runs the same phases through the asyncio SDK
(``Client.messages.send`` and ``events.new_messages``) instead, which shows what the SDK costs
per message. Each phase warms up for a second (0.5 s with ``--quick``) before its window opens.
Other processes' CPU during the window (from /proc/stat) is printed too: the machine is shared.

Usage: ``python bench/c2c_throughput.py [--quick] [--duration S] [--procs N] [--load raw|sdk]
[--phases closed-2,closed-50,rate-1000] [--url URL --pid PID]`` (``--url``/``--pid`` measure a
server that is already running, e.g. one started under a profiler).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import multiprocessing.connection as mpc
import secrets
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from _common import (
    SDKAPPID,
    SECRET_KEY,
    ServerProcess,
    busy_cores,
    filesystem_of,
    machine,
    machine_busy_seconds,
    percentile,
    proc_cpu_seconds,
    self_cpu_seconds,
    split_main_thread,
    thread_cpu_seconds,
)
from opentim.protocol import ConvType, Message, make_usersig
from opentim.sdk import Client, SdkError

WINDOW = 32
TARGET_MSGS_PER_S = 5000
TARGET_P99_MS = 50.0
TEXT = b"benchmark message 0123456789 abcdefghij"
ELEMS = [{"elem_type": 0, "text_elem_content": TEXT.decode()}]
LOGIN_FRAME = (
    b'{"t":"req","id":1,"op":"login","body":{"user_id":"%b","user_sig":"%b",'
    b'"sdkappid":%d,"device_id":"bench"}}'
)
SEND_FRAME = (
    b'{"t":"req","id":%d,"op":"send","body":{"conv_type":1,"conv_id":"%b","msg":{'
    b'"msg_id":"%b-%d","elems":[{"elem_type":0,"text_elem_content":"%b"}],'
    b'"client_time":%d,"random":%d,"cloud_custom_data":"%.6f"}}}'
)
LOAD_KINDS = {
    "raw": "raw WebSocket frames (websockets library, pre-encoded requests), not the SDK",
    "sdk": "the asyncio SDK (opentim.sdk.Client: messages.send, events.new_messages)",
}


# --- what the load decodes of a server frame --------------------------------------------------
class _Msg(msgspec.Struct):
    cloud_custom_data: str = ""


class _Body(msgspec.Struct):
    msg: _Msg | None = None


class _Frame(msgspec.Struct):
    """Either a response (``t`` "res", ``id``, ``code``) or a push (``t`` "push", ``kind``)."""

    t: str
    id: int = 0
    code: int = 0
    desc: str = ""
    kind: str = ""
    body: _Body | None = None


_decode = msgspec.json.Decoder(_Frame).decode


@dataclass
class Phase:
    name: str
    senders: int
    window: int = WINDOW
    rate: float = 0.0
    """Total offered msgs/s; 0 means closed loop (window-limited)."""


PHASES = {
    p.name: p
    for p in (
        Phase("closed-2", senders=2),
        Phase("closed-50", senders=50),
        Phase("rate-1000", senders=50, rate=1000.0),
    )
}


@dataclass
class Job:
    """One load process's share of a phase."""

    url: str
    phase: str
    worker: int
    workers: int
    pairs: list[tuple[str, str]]
    window: int
    rate: float
    load: str


@dataclass
class Stats:
    t_begin: float = 0.0
    t_end: float = 0.0
    stopping: bool = False
    sent: int = 0
    acked: int = 0
    received: int = 0
    errors: int = 0
    first_error: str = ""
    acked_in_window: int = 0
    received_in_window: int = 0
    max_lag: float = 0.0
    cpu_window: float = 0.0
    lat: list[float] = field(default_factory=list)
    ack_lat: list[float] = field(default_factory=list)
    drained: asyncio.Event = field(default_factory=asyncio.Event)

    def on_ack(self, ts: float, code: int, desc: str) -> None:
        """The durable ack of the message stamped ``ts``."""
        now = time.time()
        self.acked += 1
        if code:
            self.errors += 1
            self.first_error = self.first_error or f"{code} {desc}"
        if self.t_begin <= now < self.t_end:
            self.acked_in_window += 1
        if self.t_begin <= ts < self.t_end:
            self.ack_lat.append(now - ts)
        if self.stopping:
            self.check_drained()

    def on_receipt(self, ts: float) -> None:
        """A recipient got the message stamped ``ts``."""
        now = time.time()
        self.received += 1
        if self.t_begin <= now < self.t_end:
            self.received_in_window += 1
        if self.t_begin <= ts < self.t_end:
            self.lat.append(now - ts)
        if self.stopping:
            self.check_drained()

    def check_drained(self) -> None:
        """Once sending stopped: set ``drained`` when every send is acked and every accepted
        one received."""
        if self.stopping and self.acked >= self.sent and self.received + self.errors >= self.sent:
            self.drained.set()


class RawSender:
    """One sending user on a bare WebSocket: pre-encoded sends, acks matched by request id."""

    def __init__(self, ws: ClientConnection, user: str, peer: str, stats: Stats) -> None:
        self.ws = ws
        self.user = user.encode()
        self.peer = peer.encode()
        self.stats = stats
        self.next_id = 100
        self.sent_at: dict[int, float] = {}
        self.room = asyncio.Event()

    @property
    def outstanding(self) -> int:
        return len(self.sent_at)

    async def fire(self, ts: float) -> None:
        """Send one message stamped ``ts``; its ack arrives through ``on_frame``."""
        rid = self.next_id
        self.next_id = rid + 1
        self.sent_at[rid] = ts
        self.stats.sent += 1
        frame = SEND_FRAME % (rid, self.peer, self.user, rid, TEXT, int(ts), rid, ts)
        await self.ws.send(frame, text=True)

    async def run_closed(self, window: int) -> None:
        """Keep ``window`` sends outstanding until the phase stops."""
        stats = self.stats
        while not stats.stopping:
            if len(self.sent_at) >= window:
                self.room.clear()
                await self.room.wait()
                continue
            await self.fire(time.time())

    def stop(self) -> None:
        self.room.set()

    def on_frame(self, data: bytes) -> None:
        frame = _decode(data)
        if frame.t != "res":
            return
        ts = self.sent_at.pop(frame.id, None)
        if ts is not None:
            self.stats.on_ack(ts, frame.code, frame.desc)
            self.room.set()

    async def close(self) -> None:
        await self.ws.close()


class SdkSender:
    """One sending user on an ``opentim.sdk.Client``: ``messages.send`` awaits each ack."""

    def __init__(self, client: Client, peer: str, stats: Stats) -> None:
        self.client = client
        self.peer = peer
        self.stats = stats
        self.outstanding = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def _send(self, ts: float) -> None:
        self.stats.sent += 1
        self.outstanding += 1
        msg = self.client.messages.new_message(ELEMS, cloud_custom_data=f"{ts:.6f}")
        code, desc = 0, ""
        try:
            await self.client.messages.send(ConvType.C2C, self.peer, msg)
        except SdkError as exc:
            code, desc = exc.code, exc.desc
        self.outstanding -= 1
        self.stats.on_ack(ts, code, desc)

    async def fire(self, ts: float) -> None:
        task = asyncio.ensure_future(self._send(ts))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def run_closed(self, window: int) -> None:
        async def one() -> None:
            while not self.stats.stopping:
                await self._send(time.time())

        await asyncio.gather(*(one() for _ in range(window)))

    def stop(self) -> None:
        pass

    async def close(self) -> None:
        await self.client.close()


Sender = RawSender | SdkSender


async def _raw_login(url: str, user: str) -> ClientConnection:
    ws = await connect(url, compression=None, max_size=1 << 20, open_timeout=30)
    sig = make_usersig(SECRET_KEY, SDKAPPID, user, int(time.time())).encode()
    await ws.send(LOGIN_FRAME % (user.encode(), sig, SDKAPPID), text=True)
    async with asyncio.timeout(30):
        reply = _decode(await ws.recv(decode=False))
    if reply.t != "res" or reply.code:
        raise RuntimeError(f"login of {user} refused: {reply.code} {reply.desc}")
    return ws


async def _sdk_login(url: str, user: str) -> Client:
    client = Client(url, SDKAPPID, device_id="bench", request_timeout=60)
    await client.login(user, make_usersig(SECRET_KEY, SDKAPPID, user, int(time.time())))
    await client.wait_synced()
    return client


async def _read(ws: ClientConnection, handle: Callable[[bytes], None]) -> None:
    try:
        while True:
            handle(await ws.recv(decode=False))
    except ConnectionClosed:
        pass


def _raw_push(stats: Stats, data: bytes) -> None:
    frame = _decode(data)
    if frame.kind == "msg" and frame.body is not None and frame.body.msg is not None:
        stats.on_receipt(float(frame.body.msg.cloud_custom_data))


def _sdk_messages(stats: Stats, msgs: list[Message]) -> None:
    for msg in msgs:
        stats.on_receipt(float(msg.cloud_custom_data))


async def _sleep_until(t: float) -> None:
    delay = t - time.time()
    if delay > 0:
        await asyncio.sleep(delay)


async def _open_loop(senders: list[Sender], rate: float, t_first: float, t_stop: float) -> None:
    stats = senders[0].stats
    interval = 1.0 / rate
    k = 0
    while True:
        due = t_first + k * interval
        if due >= t_stop:
            return
        now = time.time()
        if due > now:
            await asyncio.sleep(due - now)
            continue
        stats.max_lag = max(stats.max_lag, now - due)
        await senders[k % len(senders)].fire(due)
        k += 1


async def _cpu_window(stats: Stats) -> None:
    await _sleep_until(stats.t_begin)
    cpu0 = self_cpu_seconds()
    await _sleep_until(stats.t_end)
    stats.cpu_window = self_cpu_seconds() - cpu0


async def _connect(
    job: Job, stats: Stats
) -> tuple[list[Sender], list[Any], list[asyncio.Task[None]]]:
    """Log in every recipient, then every sender; start whatever reads their frames."""
    if job.load == "sdk":
        receivers = await asyncio.gather(*(_sdk_login(job.url, r) for _, r in job.pairs))
        for client in receivers:
            client.events.new_messages.add(lambda msgs: _sdk_messages(stats, msgs))
        clients = await asyncio.gather(*(_sdk_login(job.url, s) for s, _ in job.pairs))
        sdk_senders: list[Sender] = [
            SdkSender(c, r, stats) for c, (_, r) in zip(clients, job.pairs, strict=True)
        ]
        return sdk_senders, list(receivers), []
    sockets = await asyncio.gather(*(_raw_login(job.url, r) for _, r in job.pairs))
    sender_ws = await asyncio.gather(*(_raw_login(job.url, s) for s, _ in job.pairs))
    raw = [RawSender(ws, s, r, stats) for ws, (s, r) in zip(sender_ws, job.pairs, strict=True)]
    readers = [asyncio.create_task(_read(ws, lambda d: _raw_push(stats, d))) for ws in sockets]
    readers += [asyncio.create_task(_read(s.ws, s.on_frame)) for s in raw]
    return list(raw), list(sockets), readers


async def _worker_main(job: Job, pipe: mpc.Connection) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    stats = Stats()
    senders, receivers, readers = await _connect(job, stats)
    pipe.send("ready")
    t_start, stats.t_begin, stats.t_end = await loop.run_in_executor(None, pipe.recv)
    cpu_task = asyncio.create_task(_cpu_window(stats))
    await _sleep_until(t_start)
    if job.rate > 0:
        # Workers interleave their schedules so the total arrival rate is even.
        offset = job.worker / (job.rate * job.workers)
        await _open_loop(senders, job.rate, t_start + offset, stats.t_end)
    else:
        tasks = [asyncio.create_task(s.run_closed(job.window)) for s in senders]
        await _sleep_until(stats.t_end)
        stats.stopping = True
        for s in senders:
            s.stop()
        await asyncio.gather(*tasks)
    await cpu_task
    stats.stopping = True
    stats.check_drained()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(15.0):
            await stats.drained.wait()
    unanswered = sum(s.outstanding for s in senders)
    for s in senders:
        await s.close()
    for r in receivers:
        await r.close()
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    return {
        "sent": stats.sent,
        "acked": stats.acked,
        "received": stats.received,
        "unanswered": unanswered,
        "errors": stats.errors,
        "first_error": stats.first_error,
        "acked_in_window": stats.acked_in_window,
        "received_in_window": stats.received_in_window,
        "max_lag": stats.max_lag,
        "cpu_window": stats.cpu_window,
        "lat": stats.lat,
        "ack_lat": stats.ack_lat,
    }


def _worker(job: Job, pipe: mpc.Connection) -> None:
    try:
        result = asyncio.run(_worker_main(job, pipe))
    except BaseException as exc:
        pipe.send({"failed": f"{type(exc).__name__}: {exc}"})
        raise
    pipe.send(result)


def run_phase(
    url: str,
    pid: int,
    phase: Phase,
    procs: int,
    warmup: float,
    duration: float,
    tag: str,
    load: str,
) -> dict[str, Any]:
    """Run one phase with ``procs`` load processes against the server at ``url`` (process
    ``pid``) and summarize it."""
    workers = min(procs, phase.senders)
    pairs = [(f"{tag}{phase.name}-s{i}", f"{tag}{phase.name}-r{i}") for i in range(phase.senders)]
    ctx = mp.get_context("fork")
    pipes: list[mpc.Connection] = []
    children: list[mp.process.BaseProcess] = []
    for w in range(workers):
        parent, child = ctx.Pipe()
        job = Job(
            url=url,
            phase=phase.name,
            worker=w,
            workers=workers,
            pairs=pairs[w::workers],
            window=phase.window,
            rate=phase.rate / workers,
            load=load,
        )
        proc = ctx.Process(target=_worker, args=(job, child), daemon=True)
        proc.start()
        pipes.append(parent)
        children.append(proc)
    try:
        for pipe in pipes:
            if not pipe.poll(60):
                raise RuntimeError(f"{phase.name}: a load process did not log in within 60 s")
            msg = pipe.recv()
            if msg != "ready":
                raise RuntimeError(f"{phase.name}: load process failed: {msg}")
        t_start = time.time() + 0.3
        t_begin = t_start + warmup
        t_end = t_begin + duration
        for pipe in pipes:
            pipe.send((t_start, t_begin, t_end))
        time.sleep(max(0.0, t_begin - time.time()))
        busy0, cpu0, threads0 = (
            machine_busy_seconds(),
            proc_cpu_seconds(pid),
            thread_cpu_seconds(pid),
        )
        time.sleep(max(0.0, t_end - time.time()))
        busy1, cpu1, threads1 = (
            machine_busy_seconds(),
            proc_cpu_seconds(pid),
            thread_cpu_seconds(pid),
        )
        results = []
        for pipe in pipes:
            if not pipe.poll(60):
                raise RuntimeError(f"{phase.name}: a load process did not report within 60 s")
            res = pipe.recv()
            if "failed" in res:
                raise RuntimeError(f"{phase.name}: load process failed: {res['failed']}")
            results.append(res)
    finally:
        for proc in children:
            proc.join(10)
            if proc.is_alive():
                proc.terminate()
                proc.join(5)
    main_thread, other_threads = split_main_thread(pid, threads0, threads1)
    summary = summarize(phase, workers, duration, cpu1 - cpu0, results)
    summary["server_main_thread_cores"] = round(main_thread / duration, 2)
    summary["server_other_threads_cores"] = round(other_threads / duration, 2)
    load_cpu = sum(r["cpu_window"] for r in results)
    others = (busy1 - busy0) - (cpu1 - cpu0) - load_cpu
    summary["other_processes_cores"] = round(max(0.0, others) / duration, 2)
    return summary


def summarize(
    phase: Phase, workers: int, duration: float, server_cpu: float, results: list[dict[str, Any]]
) -> dict[str, Any]:
    def total(key: str) -> int:
        return sum(int(r[key]) for r in results)

    def pct_ms(values: list[float], p: float) -> float | None:
        return round(percentile(values, p) * 1000, 2) if values else None

    lat = sorted(x for r in results for x in r["lat"])
    ack_lat = sorted(x for r in results for x in r["ack_lat"])
    acked = total("acked_in_window")
    received = total("received_in_window")
    errors = [r["first_error"] for r in results if r["first_error"]]
    return {
        "senders": phase.senders,
        "window": phase.window if not phase.rate else None,
        "offered_rate": phase.rate or None,
        "load_processes": workers,
        "duration_s": duration,
        "msgs_per_s": round(received / duration, 1),
        "acked_per_s": round(acked / duration, 1),
        "latency_p50_ms": pct_ms(lat, 50),
        "latency_p99_ms": pct_ms(lat, 99),
        "latency_max_ms": round(lat[-1] * 1000, 2) if lat else None,
        "ack_p50_ms": pct_ms(ack_lat, 50),
        "ack_p99_ms": pct_ms(ack_lat, 99),
        "server_cpu_us_per_msg": round(server_cpu / acked * 1e6, 1) if acked else None,
        "server_cpu_cores": round(server_cpu / duration, 2),
        "load_cpu_cores": round(sum(r["cpu_window"] for r in results) / duration, 2),
        "load_max_lag_ms": round(max(r["max_lag"] for r in results) * 1000, 2)
        if phase.rate
        else None,
        "sent": total("sent"),
        "received": total("received"),
        "unanswered": total("unanswered"),
        "errors": total("errors"),
        "first_error": errors[0] if errors else "",
    }


def print_phase(name: str, r: dict[str, Any]) -> None:
    shape = (
        f"rate={r['offered_rate']:.0f}/s"
        if r["offered_rate"]
        else f"window={r['window']} per sender"
    )
    print(
        f"{name:<10} senders={r['senders']:<3} {shape}  load processes={r['load_processes']}  "
        f"measured {r['duration_s']:.1f} s"
    )
    print(
        f"  msgs/s {r['msgs_per_s']:>9.1f} received  ({r['acked_per_s']:.1f} acked)   "
        f"latency p50 {r['latency_p50_ms']} ms  p99 {r['latency_p99_ms']} ms  "
        f"max {r['latency_max_ms']} ms   ack p50 {r['ack_p50_ms']} ms  "
        f"p99 {r['ack_p99_ms']} ms"
    )
    lag = f"   generator max lag {r['load_max_lag_ms']} ms" if r["offered_rate"] else ""
    print(
        f"  server CPU {r['server_cpu_us_per_msg']} µs/msg ({r['server_cpu_cores']:.2f} cores: "
        f"event loop {r['server_main_thread_cores']:.2f}, "
        f"store threads {r['server_other_threads_cores']:.2f})"
        f"   load CPU {r['load_cpu_cores']:.2f} cores   other processes "
        f"{r['other_processes_cores']:.2f} cores{lag}   sent {r['sent']}  "
        f"received {r['received']}  unanswered {r['unanswered']}  errors {r['errors']}"
        + (f" (first: {r['first_error']})" if r["first_error"] else ""),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="2 s phases: a smoke run")
    parser.add_argument("--duration", type=float, help="measured seconds per phase")
    parser.add_argument("--procs", type=int, default=2, help="load processes (default 2)")
    parser.add_argument(
        "--phases", default=",".join(PHASES), help=f"comma-separated subset of {','.join(PHASES)}"
    )
    parser.add_argument(
        "--load",
        choices=sorted(LOAD_KINDS),
        default="raw",
        help="how the load speaks to the server: pre-encoded frames (default) or the SDK",
    )
    parser.add_argument("--url", help="measure a running server instead of starting one")
    parser.add_argument("--pid", type=int, help="with --url: the server's process id (for CPU)")
    args = parser.parse_args()
    if args.url and not args.pid:
        parser.error("--url needs --pid (the server's CPU time is part of the result)")
    duration = args.duration or (2.0 if args.quick else 10.0)
    warmup = 0.5 if args.quick else 1.0
    phases = [PHASES[name] for name in args.phases.split(",")]
    mach = machine()
    tag = secrets.token_hex(2)
    load_kind = LOAD_KINDS[args.load]
    summary: dict[str, Any] = {"bench": "c2c_throughput", "machine": mach, "load": load_kind}
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="opentim-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        with contextlib.ExitStack() as stack:
            if args.url:
                url, pid, where = args.url, args.pid, "an external server"
            else:
                server = stack.enter_context(ServerProcess(data_dir))
                url, pid = server.url, server.pid
                where = f"SQLite in {data_dir} ({filesystem_of(Path(tmp))})"
            print(
                f"c2c_throughput: server {url} (pid {pid}), {where}; {mach['nproc']} CPUs "
                f"{mach['cpu_model']}, Python {mach['python']}"
            )
            print(f"load: {load_kind}; {args.procs} load processes", flush=True)
            idle = busy_cores()
            summary["busy_cores_before"] = round(idle, 2)
            print(f"CPUs already busy before the run (other processes): {idle:.2f}", flush=True)
            for phase in phases:
                results[phase.name] = run_phase(
                    url, pid, phase, args.procs, warmup, duration, tag, args.load
                )
                print_phase(phase.name, results[phase.name])
            log = "" if args.url else server.log_tail()
    targets: dict[str, Any] = {}
    closed = [results[n]["msgs_per_s"] for n in ("closed-2", "closed-50") if n in results]
    if closed:
        best = max(closed)
        targets["durable_msgs_per_s"] = {"target": TARGET_MSGS_PER_S, "measured": best}
        verdict = "met" if best >= TARGET_MSGS_PER_S else "MISSED"
        print(f"target: durable msgs/s >= {TARGET_MSGS_PER_S}: {best:.0f} ({verdict})")
    if "rate-1000" in results:
        p99 = results["rate-1000"]["latency_p99_ms"]
        targets["p99_ms_at_1000"] = {"target": TARGET_P99_MS, "measured": p99}
        verdict = "met" if p99 is not None and p99 <= TARGET_P99_MS else "MISSED"
        print(f"target: p99 at 1,000 msgs/s <= {TARGET_P99_MS:.0f} ms: {p99} ms ({verdict})")
    if "Traceback" in log or "ERROR" in log:
        print("server log tail:\n" + log)
    summary.update(phases=results, targets=targets, quick=args.quick)
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
