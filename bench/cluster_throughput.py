"""Scale-out: C2C messages per second and latency with one, two and three nodes on PostgreSQL
with Redis and with NATS, beside the SQLite single node; then the fan-out of a 10,000-member
group with 1,000 members online over three nodes.

What is measured, per configuration (the method of c2c_throughput.py):
  * msgs/s: C2C messages that reached their recipient during the window. Sender i logs in to
    node i mod N and its recipient to node (i+1) mod N, so with several nodes every message
    crosses the bus. Acknowledged only after the commit.
  * p50/p99: recipient's receipt time minus the send time written in the message; in a closed
    loop (``senders`` × ``window`` outstanding) and at a fixed offered rate (open loop).
  * server CPU µs/msg: utime+stime of every node over the window (/proc/<pid>/stat) divided by
    the messages acknowledged, in total and per node; also PostgreSQL's, Redis's or NATS's
    processes (all of them on this machine, so other users of those servers count too).
Fan-out: a 10,000-member group (created through PostgresStore directly), 1,000 members logged in
as raw WebSocket clients spread over three nodes, one sender at a fixed rate: deliveries per
second, latency to every online member, and server CPU per group message and per delivery.

Usage: ``python bench/cluster_throughput.py [--quick] [--duration S] [--configs LIST]
[--no-fanout]``. Needs PostgreSQL, Redis and NATS on loopback (see DESIGN §5).
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from websockets.asyncio.client import ClientConnection

from _common import (
    ServerProcess,
    busy_cores,
    cpu_seconds_of,
    cpu_since,
    machine,
    pids_named,
    proc_cpu_seconds,
)
from c2c_throughput import (
    RawSender,
    Stats,
    _cpu_window,
    _open_loop,
    _raw_login,
    _raw_push,
    _read,
    _sleep_until,
    percentile,
)
from opentim.protocol import ConvType, GroupType, MemberRole, group_channel
from opentim.server.store.base import GroupRow, NewMessage
from opentim.server.store.postgres import PostgresStore

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
BUSES = {"redis": "redis://127.0.0.1:6379/0", "nats": "nats://127.0.0.1:4222"}
SERVICE_PROCS = {
    "sqlite": (),
    "redis": ("postgres", "redis-server"),
    "nats": ("postgres", "nats-server"),
}
CONFIGS = ["sqlite-1", "redis-1", "redis-2", "redis-3", "nats-1", "nats-2", "nats-3"]
SENDERS, WINDOW, RATE = 24, 8, 1000.0
GROUP_SIZE, ONLINE, FANOUT_RATE = 10_000, 1_000, 10.0


# --- a cluster of nodes -------------------------------------------------------------------------
async def _schema(action: str, name: str) -> None:
    conn = await asyncpg.connect(POSTGRES)
    try:
        await conn.execute(f"{action} SCHEMA {name}" + (" CASCADE" if action == "DROP" else ""))
    finally:
        await conn.close()


@dataclass
class Cluster:
    kind: str
    nodes: list[ServerProcess]
    store_url: str
    schema: str

    @property
    def urls(self) -> list[str]:
        return [n.url for n in self.nodes]

    @property
    def pids(self) -> list[int]:
        return [n.pid for n in self.nodes]


@contextlib.contextmanager
def cluster(kind: str, count: int, tmp: Path):  # type: ignore[no-untyped-def]
    schema = f"opentim_bench_{secrets.token_hex(4)}"
    store_url = f"{POSTGRES}?search_path={schema}"
    nodes: list[ServerProcess] = []
    if kind != "sqlite":
        asyncio.run(_schema("CREATE", schema))
    try:
        prefix = f"opentim-bench-{secrets.token_hex(4)}"
        for i in range(count):
            extra: list[str] = ["--node-id", f"n{i}"]
            if kind != "sqlite":
                extra += ["--store", store_url, "--bus", BUSES[kind], "--bus-prefix", prefix]
            node = ServerProcess(tmp / f"{kind}-{count}-n{i}", extra_args=extra)
            node.start()
            nodes.append(node)
        yield Cluster(kind, nodes, store_url, schema)
    finally:
        for node in nodes:
            node.stop()
        if kind != "sqlite":
            asyncio.run(_schema("DROP", schema))


# --- load processes -------------------------------------------------------------------------------
@dataclass
class Job:
    pairs: list[tuple[str, str, str, str]]
    """(sender, sender's node url, recipient, recipient's node url)"""
    window: int
    rate: float
    worker: int
    workers: int


async def _worker_main(job: Job, pipe: mpc.Connection) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    stats = Stats()
    rx = await asyncio.gather(*(_raw_login(rurl, r) for _, _, r, rurl in job.pairs))
    tx = await asyncio.gather(*(_raw_login(surl, s) for s, surl, _, _ in job.pairs))
    senders = [RawSender(ws, s, r, stats) for ws, (s, _, r, _) in zip(tx, job.pairs, strict=True)]
    readers = [asyncio.create_task(_read(ws, lambda d: _raw_push(stats, d))) for ws in rx]
    readers += [asyncio.create_task(_read(s.ws, s.on_frame)) for s in senders]
    pipe.send("ready")
    t_start, stats.t_begin, stats.t_end = await loop.run_in_executor(None, pipe.recv)
    cpu_task = asyncio.create_task(_cpu_window(stats))
    await _sleep_until(t_start)
    if job.rate:
        offset = job.worker / (job.rate * job.workers)
        await _open_loop(list(senders), job.rate, t_start + offset, stats.t_end)
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
    for ws in [*rx, *tx]:
        await ws.close()
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    return {
        "acked_in_window": stats.acked_in_window,
        "received_in_window": stats.received_in_window,
        "errors": stats.errors,
        "first_error": stats.first_error,
        "lat": stats.lat,
        "cpu_window": stats.cpu_window,
    }


def _worker(job: Job, pipe: mpc.Connection) -> None:
    try:
        result = asyncio.run(_worker_main(job, pipe))
    except BaseException as exc:
        pipe.send({"failed": f"{type(exc).__name__}: {exc}"})
        raise
    pipe.send(result)


def _run_load(
    jobs: list[Job], warmup: float, duration: float, pids: list[int], services: tuple[str, ...]
) -> tuple[list[dict[str, Any]], list[float], float]:
    """Run load processes; the nodes' CPU seconds (each) and the services' over the window."""
    ctx = mp.get_context("fork")
    pipes, children = [], []
    for job in jobs:
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_worker, args=(job, child), daemon=True)
        proc.start()
        pipes.append(parent)
        children.append(proc)
    try:
        for pipe in pipes:
            if not pipe.poll(120):
                raise RuntimeError("a load process did not log in within 120 s")
            msg = pipe.recv()
            if msg != "ready":
                raise RuntimeError(f"load process failed: {msg}")
        t_start = time.time() + 0.3
        t_begin, t_end = t_start + warmup, t_start + warmup + duration
        for pipe in pipes:
            pipe.send((t_start, t_begin, t_end))
        time.sleep(max(0.0, t_begin - time.time()))
        cpu0 = [proc_cpu_seconds(p) for p in pids]
        svc0 = cpu_seconds_of(pids_named(*services))
        time.sleep(max(0.0, t_end - time.time()))
        cpu1 = [proc_cpu_seconds(p) for p in pids]
        svc = cpu_since(services, svc0)
        results = []
        for pipe in pipes:
            if not pipe.poll(120):
                raise RuntimeError("a load process did not report within 120 s")
            res = pipe.recv()
            if "failed" in res:
                raise RuntimeError(f"load process failed: {res['failed']}")
            results.append(res)
    finally:
        for proc in children:
            proc.join(10)
            if proc.is_alive():
                proc.terminate()
                proc.join(5)
    return results, [b - a for a, b in zip(cpu0, cpu1, strict=True)], svc


def c2c_phase(
    c: Cluster, tag: str, rate: float, warmup: float, duration: float, procs: int
) -> dict[str, Any]:
    n = len(c.nodes)
    pairs = [
        (f"{tag}-s{i}", c.urls[i % n], f"{tag}-r{i}", c.urls[(i + 1) % n]) for i in range(SENDERS)
    ]
    jobs = [Job(pairs[w::procs], WINDOW, rate / procs, w, procs) for w in range(procs)]
    services = SERVICE_PROCS[c.kind]
    results, node_cpu, svc_cpu = _run_load(jobs, warmup, duration, c.pids, services)
    lat = sorted(x for r in results for x in r["lat"])
    acked = sum(r["acked_in_window"] for r in results)
    received = sum(r["received_in_window"] for r in results)

    def ms(p: float) -> float | None:
        return round(percentile(lat, p) * 1000, 2) if lat else None

    return {
        "msgs_per_s": round(received / duration, 1),
        "p50_ms": ms(50),
        "p99_ms": ms(99),
        "server_cpu_us_per_msg": round(sum(node_cpu) / acked * 1e6, 1) if acked else None,
        "per_node_cpu_us_per_msg": [round(x / acked * 1e6, 1) for x in node_cpu] if acked else [],
        "per_node_cores": [round(x / duration, 2) for x in node_cpu],
        "services_cpu_us_per_msg": round(svc_cpu / acked * 1e6, 1) if acked and services else None,
        "services_cores": round(svc_cpu / duration, 2),
        "load_cores": round(sum(r["cpu_window"] for r in results) / duration, 2),
        "errors": sum(r["errors"] for r in results),
        "first_error": next((r["first_error"] for r in results if r["first_error"]), ""),
    }


# --- fan-out ----------------------------------------------------------------------------------
async def _make_group(store_url: str, group_id: str, owner: str) -> None:
    store = PostgresStore(store_url)
    await store.open()
    try:
        members = {f"m{i:05}": int(MemberRole.NORMAL) for i in range(GROUP_SIZE)}
        members[owner] = int(MemberRole.OWNER)
        row = GroupRow(group_id, "big", int(GroupType.PUBLIC), owner, 2)
        tip = NewMessage(
            channel_id=group_channel(group_id),
            conv_type=ConvType.GROUP,
            sender="@TIM#SYSTEM",
            receiver=group_id,
            msg_id=f"tip-{secrets.token_hex(6)}",
            elems=[{"elem_type": 5}],
            is_tips=True,
            excluded_from_unread=True,
        )
        await store.groups.create_group(row, members, tip, int(time.time()))
    finally:
        await store.close()


GROUP_SEND = (
    b'{"t":"req","id":%d,"op":"send","body":{"conv_type":2,"conv_id":"%b","msg":{'
    b'"msg_id":"fan-%d","elems":[{"elem_type":0,"text_elem_content":"fan-out"}],'
    b'"cloud_custom_data":"%.6f"}}}'
)


@dataclass
class FanJob:
    members: list[tuple[str, str]]
    """(user, node url) to log in and listen"""
    sender: tuple[str, str] | None
    group_id: str
    rate: float
    duration: float


async def _fan_main(job: FanJob, pipe: mpc.Connection) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    stats = Stats()
    sockets: list[ClientConnection] = []
    for k in range(0, len(job.members), 50):  # log in in batches: 1,000 logins at once choke
        part = job.members[k : k + 50]
        sockets += await asyncio.gather(*(_raw_login(url, u) for u, url in part))
    readers = [asyncio.create_task(_read(ws, lambda d: _raw_push(stats, d))) for ws in sockets]
    sender_ws = None
    errors: list[bytes] = []
    if job.sender is not None:
        sender_ws = await _raw_login(job.sender[1], job.sender[0])

        def on_reply(data: bytes) -> None:
            if b'"code"' in data:
                errors.append(data)

        readers.append(asyncio.create_task(_read(sender_ws, on_reply)))
    pipe.send("ready")
    t_start, stats.t_begin, stats.t_end = await loop.run_in_executor(None, pipe.recv)
    cpu_task = asyncio.create_task(_cpu_window(stats))
    sent = 0
    if sender_ws is not None:
        k = 0
        while True:
            due = t_start + k / job.rate
            if due >= stats.t_end:
                break
            await _sleep_until(due)
            if stats.t_begin <= float(f"{due:.6f}"):  # as the receivers will read the stamp
                sent += 1
            await sender_ws.send(GROUP_SEND % (k + 2, job.group_id.encode(), k, due), text=True)
            k += 1
    await cpu_task
    await _sleep_until(stats.t_end + 2.0)  # let the last deliveries land
    for ws in sockets + ([sender_ws] if sender_ws else []):
        await ws.close()
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    if errors:
        print("fan-out send refused:", errors[0][:200].decode(errors="replace"), flush=True)
    return {"lat": stats.lat, "sent": sent, "cpu_window": stats.cpu_window, "errors": len(errors)}


def _fan_worker(job: FanJob, pipe: mpc.Connection) -> None:
    try:
        result = asyncio.run(_fan_main(job, pipe))
    except BaseException as exc:
        pipe.send({"failed": f"{type(exc).__name__}: {exc}"})
        raise
    pipe.send(result)


def fanout(kind: str, tmp: Path, warmup: float, duration: float, procs: int) -> dict[str, Any]:
    with cluster(kind, 3, tmp) as c:
        gid = f"big-{secrets.token_hex(3)}"
        asyncio.run(_make_group(c.store_url, gid, "owner"))
        online = [(f"m{i:05}", c.urls[i % 3]) for i in range(ONLINE)]
        jobs = [
            FanJob(
                online[w::procs],
                ("owner", c.urls[0]) if w == 0 else None,
                gid,
                FANOUT_RATE,
                duration,
            )
            for w in range(procs)
        ]
        ctx = mp.get_context("fork")
        pipes, children = [], []
        for job in jobs:
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_fan_worker, args=(job, child), daemon=True)
            proc.start()
            pipes.append(parent)
            children.append(proc)
        services = SERVICE_PROCS[kind]
        try:
            for pipe in pipes:
                if not pipe.poll(300):
                    raise RuntimeError("fan-out: logins did not finish within 300 s")
                msg = pipe.recv()
                if msg != "ready":
                    raise RuntimeError(f"fan-out load failed: {msg}")
            t_start = time.time() + 0.3
            t_begin, t_end = t_start + warmup, t_start + warmup + duration
            for pipe in pipes:
                pipe.send((t_start, t_begin, t_end))
            time.sleep(max(0.0, t_begin - time.time()))
            cpu0 = [proc_cpu_seconds(p) for p in c.pids]
            svc0 = cpu_seconds_of(pids_named(*services))
            time.sleep(max(0.0, t_end + 1.0 - time.time()))  # deliveries of the last sends
            cpu1 = [proc_cpu_seconds(p) for p in c.pids]
            svc = cpu_since(services, svc0)
            results = []
            for pipe in pipes:
                if not pipe.poll(120):
                    raise RuntimeError("fan-out: a load process did not report")
                res = pipe.recv()
                if "failed" in res:
                    raise RuntimeError(f"fan-out load failed: {res['failed']}")
                results.append(res)
        finally:
            for proc in children:
                proc.join(15)
                if proc.is_alive():
                    proc.terminate()
                    proc.join(5)
    sent = sum(r["sent"] for r in results)
    lat = sorted(x for r in results for x in r["lat"])
    node_cpu = [b - a for a, b in zip(cpu0, cpu1, strict=True)]
    deliveries = len(lat)

    def ms(p: float) -> float | None:
        return round(percentile(lat, p) * 1000, 2) if lat else None

    return {
        "group_size": GROUP_SIZE,
        "online": ONLINE,
        "nodes": 3,
        "group_msgs_per_s": FANOUT_RATE,
        "group_msgs": sent,
        "deliveries": deliveries,
        "deliveries_expected": sent * ONLINE,
        "deliveries_per_s": round(deliveries / duration, 1),
        "p50_ms": ms(50),
        "p99_ms": ms(99),
        "server_cpu_ms_per_group_msg": round(sum(node_cpu) / sent * 1e3, 2) if sent else None,
        "per_node_cpu_ms_per_group_msg": [round(x / sent * 1e3, 2) for x in node_cpu]
        if sent
        else [],
        "server_cpu_us_per_delivery": round(sum(node_cpu) / deliveries * 1e6, 1)
        if deliveries
        else None,
        "services_cpu_ms_per_group_msg": round(svc / sent * 1e3, 2) if sent else None,
        "send_errors": sum(r["errors"] for r in results),
        "load_cores": round(sum(r["cpu_window"] for r in results) / duration, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="short phases: a smoke run")
    parser.add_argument("--duration", type=float, help="measured seconds per phase")
    parser.add_argument("--procs", type=int, default=2, help="load processes (default 2)")
    parser.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated subset")
    parser.add_argument("--no-fanout", action="store_true", help="skip the group fan-out")
    parser.add_argument("--fanout-bus", default="redis", choices=sorted(BUSES))
    args = parser.parse_args()
    duration = args.duration or (2.0 if args.quick else 8.0)
    warmup = 0.5 if args.quick else 1.5
    mach = machine()
    print(
        f"cluster_throughput: {mach['nproc']} CPUs {mach['cpu_model']}, Python {mach['python']}; "
        f"{SENDERS} C2C senders × window {WINDOW} (closed loop), then {RATE:.0f} msgs/s offered",
        flush=True,
    )
    idle = busy_cores()
    print(f"CPUs already busy before the run (other processes): {idle:.2f}", flush=True)
    summary: dict[str, Any] = {"bench": "cluster_throughput", "machine": mach, "quick": args.quick}
    summary["busy_cores_before"] = round(idle, 2)
    configs: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="opentim-bench-") as tmp:
        for name in args.configs.split(","):
            kind, count = name.rsplit("-", 1)
            with cluster(kind, int(count), Path(tmp)) as c:
                tag = secrets.token_hex(2)
                closed = c2c_phase(c, f"{tag}c", 0.0, warmup, duration, args.procs)
                opened = c2c_phase(c, f"{tag}o", RATE, warmup, duration, args.procs)
            store = "SQLite" if kind == "sqlite" else f"PostgreSQL + {kind.capitalize()}"
            configs[name] = {
                "store_bus": store,
                "nodes": int(count),
                "closed": closed,
                "rate": opened,
            }
            print(
                f"{store:<20} {count} node(s): closed {closed['msgs_per_s']:>8.1f} msgs/s "
                f"p50 {closed['p50_ms']} p99 {closed['p99_ms']} ms; server "
                f"{closed['server_cpu_us_per_msg']} µs/msg (per node "
                f"{closed['per_node_cpu_us_per_msg']}, cores {closed['per_node_cores']}); "
                f"services {closed['services_cpu_us_per_msg']} µs/msg; | at {RATE:.0f}/s: "
                f"p50 {opened['p50_ms']} p99 {opened['p99_ms']} ms, server "
                f"{opened['server_cpu_us_per_msg']} µs/msg"
                + (
                    f"  errors {closed['errors']} ({closed['first_error']})"
                    if closed["errors"]
                    else ""
                ),
                flush=True,
            )
        summary["configs"] = configs
        if not args.no_fanout:
            fan = fanout(args.fanout_bus, Path(tmp), warmup, duration, args.procs)
            summary["fanout"] = fan
            print(
                f"fan-out ({args.fanout_bus}): {GROUP_SIZE:,} members, {ONLINE:,} online over 3 "
                f"nodes, {FANOUT_RATE:.0f} group msgs/s: {fan['deliveries']}/"
                f"{fan['deliveries_expected']} deliveries ({fan['deliveries_per_s']}/s), p50 "
                f"{fan['p50_ms']} p99 {fan['p99_ms']} ms; server "
                f"{fan['server_cpu_ms_per_group_msg']} ms CPU per group msg (per node "
                f"{fan['per_node_cpu_ms_per_group_msg']}), {fan['server_cpu_us_per_delivery']} "
                f"µs per delivery; services {fan['services_cpu_ms_per_group_msg']} ms per msg",
                flush=True,
            )
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
