"""Long fuzz runs: the sans-I/O session, then a real server, with bystanders chatting.

The inputs come from the generator the test suite's bounded slice uses (``tests/fuzzing.py``),
seeded here for a reproducible run:
  (a) in-process: every frame goes through ``ServerSession.receive_data`` (logged in and not);
      it must return a request or an error frame, never raise;
  (b) against ``opentim serve`` on SQLite: several attacker connections, logged in as one user
      who is in some groups and not in others, send fuzzed frames and wait for each answer;
      every frame must be answered or the connection closed with a reason (never 1011). Two
      bystanders chat meanwhile; every one of their messages must arrive. At the end the
      server's log must hold no traceback and the server must still be running.

Usage: ``python bench/fuzz.py [--inputs N] [--server-inputs N] [--seed S]``; the defaults make
over a million inputs in all (1,000,000 in-process and 100,000 over the network).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from _common import SDKAPPID, SECRET_KEY, ServerProcess, machine, percentile
from opentim.protocol import ConvType, GroupType, ServerSession, make_usersig
from opentim.sdk import Client
from opentim.server.gateway.dispatch import ALLOWED

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.fuzzing import Fuzzer, answer, is_error_answer, raw_login

ATTACKER = "mallory"


def sig(user: str) -> str:
    return make_usersig(SECRET_KEY, SDKAPPID, user, int(time.time()))


def fuzz_session(inputs: int, seed: int) -> dict[str, Any]:
    fuzzer = Fuzzer(random.Random(seed))
    t0 = time.perf_counter()
    requests = errors = crashes = 0
    first_crash = ""
    session = ServerSession(ALLOWED)
    for n in range(inputs):
        if n % 1000 == 0:
            session = ServerSession(ALLOWED)
            if n % 2000 == 0:
                session.logged_in(ATTACKER)
        frame = fuzzer.frame(n)
        try:
            result = session.receive_data(frame)
        except Exception as exc:  # what the run is looking for: report, go on
            crashes += 1
            first_crash = first_crash or f"{type(exc).__name__}: {exc} on {frame[:120]!r}"
            continue
        if isinstance(result, bytes):
            if not is_error_answer(result):
                raise AssertionError(f"not an error answer: {result[:200]!r}")
            errors += 1
        else:
            requests += 1
    took = time.perf_counter() - t0
    return {
        "inputs": inputs,
        "decoded_requests": requests,
        "error_answers": errors,
        "crashes": crashes,
        "first_crash": first_crash,
        "seconds": round(took, 1),
        "inputs_per_s": round(inputs / took),
    }


async def attacker_login(url: str) -> ClientConnection:
    return await raw_login(url, ATTACKER, sig(ATTACKER), SDKAPPID)


async def attacker(url: str, fuzzer: Fuzzer, count: int, stats: dict[str, int]) -> None:
    ws = await attacker_login(url)
    try:
        for n in range(1, count + 1):
            try:
                await ws.send(fuzzer.frame(n))
                frame = await answer(ws)
                stats["answered"] += 1
                stats["refused"] += frame.get("code", 0) != 0
            except ConnectionClosed as exc:
                if exc.rcvd is None or exc.rcvd.code == 1011:
                    stats["bad_closes"] += 1
                stats["closes"] += 1
                ws = await attacker_login(url)
    finally:
        await ws.close()


async def bystanders(url: str, stop: asyncio.Event) -> dict[str, Any]:
    alice, bob = Client(url), Client(url)
    await alice.login("alice", sig("alice"))
    await bob.login("bob", sig("bob"))
    await bob.wait_synced()
    arrived: dict[str, float] = {}
    sent: dict[str, float] = {}
    all_in = asyncio.Event()

    def on_messages(msgs: list[Any]) -> None:
        arrived.update((m.msg_id, time.perf_counter()) for m in msgs)
        if stop.is_set() and set(sent) <= set(arrived):
            all_in.set()

    bob.events.new_messages.add(on_messages)
    try:
        while not stop.is_set():
            t = time.perf_counter()
            msg = await alice.messages.send_text(ConvType.C2C, "bob", "still here")
            sent[msg.msg_id] = t
            await asyncio.sleep(0.05)  # a person's pace, not a load
        if not set(sent) <= set(arrived):
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(30):
                    await all_in.wait()
    finally:
        await alice.close()
        await bob.close()
    latencies = sorted((arrived[i] - sent[i]) * 1000 for i in sent)
    return {
        "messages": len(sent),
        "delivered": len(set(sent) & set(arrived)),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
    }


async def fuzz_server(url: str, inputs: int, seed: int, connections: int) -> dict[str, Any]:
    alice, bob = Client(url), Client(url)
    await alice.login("alice", sig("alice"))
    await bob.login("bob", sig("bob"))
    await bob.close()
    await (await attacker_login(url)).close()
    groups = (
        await alice.groups.create("with mallory", GroupType.PUBLIC, members=[ATTACKER, "bob"]),
        await alice.groups.create("without", GroupType.PRIVATE, members=["bob"]),
    )
    await alice.close()
    stats = {"answered": 0, "refused": 0, "closes": 0, "bad_closes": 0}
    stop = asyncio.Event()
    watch = asyncio.ensure_future(bystanders(url, stop))
    t0 = time.perf_counter()
    users = ("alice", "bob", ATTACKER, "@TIM#SYSTEM", "x" * 33)
    await asyncio.gather(
        *(
            attacker(
                url, Fuzzer(random.Random(seed + i), users, groups), inputs // connections, stats
            )
            for i in range(connections)
        )
    )
    took = time.perf_counter() - t0
    stop.set()
    return {
        "inputs": inputs,
        **stats,
        "seconds": round(took, 1),
        "inputs_per_s": round(inputs / took),
        "bystanders": await watch,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--inputs", type=int, default=1_000_000)
    parser.add_argument("--server-inputs", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    report: dict[str, Any] = {"machine": machine(), "seed": args.seed}
    report["session"] = fuzz_session(args.inputs, args.seed)
    print(msgspec.json.format(msgspec.json.encode(report["session"])).decode(), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        with ServerProcess(Path(tmp) / "data") as server:
            report["server"] = asyncio.run(
                fuzz_server(server.url, args.server_inputs, args.seed, args.connections)
            )
            alive = server._proc is not None and server._proc.poll() is None
            log = server.log_path.read_text(errors="replace")
        report["server"]["tracebacks_in_log"] = log.count("Traceback")
        report["server"]["server_alive"] = alive
    print(msgspec.json.format(msgspec.json.encode(report)).decode())
    server_report = report["server"]
    ok = (
        report["session"]["crashes"] == 0
        and alive
        and server_report["tracebacks_in_log"] == 0
        and server_report["bad_closes"] == 0
        and server_report["bystanders"]["delivered"] == server_report["bystanders"]["messages"]
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
