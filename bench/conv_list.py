"""Conversation list at scale: one user with 10,000 conversations (1,000 with ``--quick``).

Setup: before the server starts, the SQLite store of a fresh data directory is filled through
the store's own write path: ``SqliteStore.ensure_user`` for the user and every peer, then
``SqliteStore.append`` of one C2C ``NewMessage`` from each of N distinct peers to the user, built
as ``MessageService.submit`` builds it (channel ``c2c_channel``, both owners), queued 1,000 at a
time so each chunk is one group commit. The result is what N peers each sending the user one
message leave in the store, without N logins. Then ``opentim serve`` opens that directory.

What is measured:
  (a) sync: a fresh ``Client`` (new device, empty cache) from ``login()`` until
      ``wait_synced()`` returns, i.e. the whole paged conversation sync; several runs, and the
      server's CPU time per sync (/proc/<pid>/stat utime+stime).
  (b) ``client.conversations.list()`` on the synced client: 20 calls, median and max; plus
      ``list()`` followed by a msgspec JSON encode of the result, a floor for any call that
      hands the list out as JSON.
  (c) ``TIMConvGetConvList`` when ``opentim.tim.TIMSDK`` is importable: ``TIMInit`` with
      ``sdk_config_server_url``, ``TIMLogin``, wait for ``kTIMConvEvent_Finish``, then 20 calls
      timed from the call to the callback receiving the JSON (median and max).

Target: TIMConvGetConvList over 10,000 conversations within 50 ms.

Usage: ``python bench/conv_list.py [--quick] [--convs N] [--sync-runs R]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import msgspec

from _common import (
    SDKAPPID,
    SECRET_KEY,
    ServerProcess,
    busy_cores,
    filesystem_of,
    machine,
    proc_cpu_seconds,
)
from opentim.protocol import ConvType, c2c_channel, make_usersig
from opentim.sdk import Client
from opentim.server.config import ServerConfig
from opentim.server.store.base import NewMessage
from opentim.server.store.sqlite import SqliteStore

OWNER = "owner"
LIST_RUNS = 20
CHUNK = 1000
TARGET_TIM_MS = 50.0
K_TIM_CONV_EVENT_FINISH = 4
TIM_WAIT = 120.0


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


async def prefill(db_path: Path, n: int) -> float:
    """Give OWNER ``n`` C2C conversations, one message each from a distinct peer; seconds."""
    t0 = time.perf_counter()
    store = SqliteStore(db_path)
    await store.open()
    try:
        await store.users.ensure_user(OWNER, create=True)
        for start in range(0, n, CHUNK):
            peers = [f"peer{i:06d}" for i in range(start, min(n, start + CHUNK))]
            await asyncio.gather(*(store.users.ensure_user(p, create=True) for p in peers))
            now = int(time.time())
            appends = [
                store.messages.append(
                    NewMessage(
                        channel_id=c2c_channel(p, OWNER),
                        conv_type=ConvType.C2C,
                        sender=p,
                        receiver=OWNER,
                        msg_id=f"seed-{p}",
                        elems=[{"elem_type": 0, "text_elem_content": f"hello from {p}"}],
                        client_time=now,
                        random=i,
                        owners=((p, ConvType.C2C, OWNER), (OWNER, ConvType.C2C, p)),
                    ),
                    now,
                )
                for i, p in enumerate(peers)
            ]
            await asyncio.gather(*appends)
    finally:
        await store.close()
    return time.perf_counter() - t0


async def measure_sdk(url: str, pid: int, n: int, sync_runs: int) -> dict[str, Any]:
    """(a) fresh-login syncs and (b) conversations.list() on the asyncio SDK."""
    syncs: list[float] = []
    cpu: list[float] = []
    client: Client | None = None
    for run in range(sync_runs):
        if client is not None:
            await client.close()
        client = Client(url, SDKAPPID, device_id=f"bench-sync-{run}", request_timeout=60)
        sig = make_usersig(SECRET_KEY, SDKAPPID, OWNER, int(time.time()))
        cpu0 = proc_cpu_seconds(pid)
        t0 = time.perf_counter()
        await client.login(OWNER, sig)
        await client.wait_synced(timeout=300)
        syncs.append(time.perf_counter() - t0)
        cpu.append(proc_cpu_seconds(pid) - cpu0)
    assert client is not None
    try:
        listed = len(client.conversations.list())
        lists: list[float] = []
        for _ in range(LIST_RUNS):
            t0 = time.perf_counter()
            client.conversations.list()
            lists.append(time.perf_counter() - t0)
        encoder = msgspec.json.Encoder()
        encoded: list[float] = []
        size = 0
        for _ in range(LIST_RUNS):
            t0 = time.perf_counter()
            size = len(encoder.encode(client.conversations.list()))
            encoded.append(time.perf_counter() - t0)
    finally:
        await client.close()
    return {
        "sync_ms": [ms(s) for s in syncs],
        "sync_median_ms": ms(statistics.median(syncs)),
        "sync_server_cpu_ms": ms(statistics.median(cpu)),
        "sync_pages": -(-n // 100),
        "listed": listed,
        "list_median_ms": ms(statistics.median(lists)),
        "list_max_ms": ms(max(lists)),
        "list_json_median_ms": ms(statistics.median(encoded)),
        "list_json_max_ms": ms(max(encoded)),
        "list_json_bytes": size,
    }


class _Waiter:
    """Collects one TIM callback: the time it arrived and its arguments."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.at = 0.0
        self.args: tuple[Any, ...] = ()

    def __call__(self, *args: Any) -> None:
        self.at = time.perf_counter()
        self.args = args
        self.event.set()

    def wait(self, what: str, timeout: float = TIM_WAIT) -> tuple[Any, ...]:
        if not self.event.wait(timeout):
            raise TimeoutError(f"no {what} callback within {timeout:.0f} s")
        return self.args


def measure_tim(url: str, n: int, config_dir: Path) -> dict[str, Any]:
    """(c) TIMConvGetConvList through opentim.tim, if that layer is there."""
    try:
        from opentim.tim import TIMSDK
    except ImportError as exc:
        return {"available": False, "reason": f"ImportError: {exc}"}
    sdk = TIMSDK()
    config = {
        "sdk_config_server_url": url,
        "sdk_config_config_file_path": str(config_dir),
        "sdk_config_log_file_path": str(config_dir),
    }
    rc = sdk.TIMInit(SDKAPPID, json.dumps(config))
    if rc != 0:
        return {"available": False, "reason": f"TIMInit returned {rc}"}
    try:
        finished = threading.Event()

        def on_conv_event(event: int, json_conv_array: str, user_data: object) -> None:
            if event == K_TIM_CONV_EVENT_FINISH:
                finished.set()

        sdk.TIMSetConvEventCallback(on_conv_event, None)
        login = _Waiter()
        sig = make_usersig(SECRET_KEY, SDKAPPID, OWNER, int(time.time()))
        t0 = time.perf_counter()
        rc = sdk.TIMLogin(OWNER, sig, login, None)
        if rc != 0:
            return {"available": False, "reason": f"TIMLogin returned {rc}"}
        code, desc, *_ = login.wait("TIMLogin")
        if code != 0:
            return {"available": False, "reason": f"TIMLogin failed: {code} {desc}"}
        if not finished.wait(TIM_WAIT):
            return {"available": False, "reason": "no kTIMConvEvent_Finish after login"}
        sync = time.perf_counter() - t0
        runs: list[float] = []
        last = ""
        for _ in range(LIST_RUNS):
            got = _Waiter()
            t0 = time.perf_counter()
            rc = sdk.TIMConvGetConvList(got, None)
            if rc != 0:
                return {"available": False, "reason": f"TIMConvGetConvList returned {rc}"}
            code, desc, last, _ = got.wait("TIMConvGetConvList")
            if code != 0:
                return {"available": False, "reason": f"TIMConvGetConvList: {code} {desc}"}
            runs.append(got.at - t0)
        listed = len(json.loads(last)) if last else 0
        logout = _Waiter()
        if sdk.TIMLogout(logout, None) == 0:
            logout.wait("TIMLogout", 30)
    finally:
        sdk.TIMUninit()
    return {
        "available": True,
        "login_to_sync_finish_ms": ms(sync),
        "listed": listed,
        "expected": n,
        "get_conv_list_median_ms": ms(statistics.median(runs)),
        "get_conv_list_max_ms": ms(max(runs)),
        "json_bytes": len(last.encode()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="1,000 conversations: a smoke run")
    parser.add_argument("--convs", type=int, help="conversations of the user (default 10,000)")
    parser.add_argument("--sync-runs", type=int, help="fresh-login syncs to time (default 5)")
    args = parser.parse_args()
    n = args.convs or (1000 if args.quick else 10_000)
    sync_runs = args.sync_runs or (2 if args.quick else 5)
    mach = machine()
    summary: dict[str, Any] = {"bench": "conv_list", "machine": mach, "conversations": n}
    with tempfile.TemporaryDirectory(prefix="opentim-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        db_path = ServerConfig(data_dir=data_dir).db_path
        print(
            f"conv_list: {n} conversations for {OWNER!r}; SQLite in {data_dir} "
            f"({filesystem_of(Path(tmp))}); {mach['nproc']} CPUs {mach['cpu_model']}, "
            f"Python {mach['python']}",
            flush=True,
        )
        idle = busy_cores()
        summary["busy_cores_before"] = round(idle, 2)
        print(f"CPUs already busy before the run (other processes): {idle:.2f}", flush=True)
        filled = asyncio.run(prefill(db_path, n))
        print(
            f"setup: {n} peers x 1 message written through SqliteStore.append in "
            f"{filled:.2f} s ({n / filled:.0f} msgs/s, {CHUNK} per group commit)",
            flush=True,
        )
        with ServerProcess(data_dir) as server:
            sdk = asyncio.run(measure_sdk(server.url, server.pid, n, sync_runs))
            print(
                f"(a) sync: fresh Client login -> wait_synced ({sdk['sync_pages']} pages): "
                f"median {sdk['sync_median_ms']:.1f} ms over {sync_runs} runs "
                f"{sdk['sync_ms']}; server CPU {sdk['sync_server_cpu_ms']:.1f} ms per sync",
                flush=True,
            )
            print(
                f"(b) conversations.list() of {sdk['listed']}: median "
                f"{sdk['list_median_ms']:.2f} ms, max {sdk['list_max_ms']:.2f} ms over "
                f"{LIST_RUNS} calls;  list() + msgspec JSON encode "
                f"({sdk['list_json_bytes']} bytes): median {sdk['list_json_median_ms']:.2f} ms, "
                f"max {sdk['list_json_max_ms']:.2f} ms",
                flush=True,
            )
            tim = measure_tim(server.url, n, Path(tmp) / "tim")
        if tim["available"]:
            verdict = "met" if tim["get_conv_list_median_ms"] <= TARGET_TIM_MS else "MISSED"
            print(
                f"(c) TIMConvGetConvList of {tim['listed']}: median "
                f"{tim['get_conv_list_median_ms']:.2f} ms, max {tim['get_conv_list_max_ms']:.2f} "
                f"ms over {LIST_RUNS} calls ({tim['json_bytes']} bytes of JSON); TIMLogin -> "
                f"kTIMConvEvent_Finish {tim['login_to_sync_finish_ms']:.1f} ms"
            )
            print(f"target: TIMConvGetConvList <= {TARGET_TIM_MS:.0f} ms: {verdict}")
        else:
            print(f"(c) TIMConvGetConvList: not measured ({tim['reason']})")
    summary.update(setup_s=round(filled, 2), sdk=sdk, tim=tim, quick=args.quick)
    summary["targets"] = {
        "tim_get_conv_list_ms": {
            "target": TARGET_TIM_MS,
            "measured": tim.get("get_conv_list_median_ms"),
        }
    }
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
