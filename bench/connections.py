"""Memory per connection: how many connections a node holds.

A server process (SQLite store, this machine) takes N WebSocket connections that never log in
(the login timeout and per-address limit are raised for the measurement), then N connections
logged in as N distinct users. Its resident memory (VmRSS) is read before and after each batch;
the difference divided by N is the cost of one connection. Every connection is also one open
file: the node's ceiling is the smaller of its open-file limit (which ``opentim serve`` raises
to the hard limit at start) and its memory divided by that cost.

Usage: ``python bench/connections.py [--count N]`` (default 2,000).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import sys
import tempfile
import time
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect

from _common import SDKAPPID, SECRET_KEY, proc_cpu_seconds
from opentim.protocol import make_usersig

SERVER = """
import asyncio, os, signal, sys
from pathlib import Path
from opentim.server.app import Server
from opentim.server.config import Limits, ServerConfig

async def main():
    limits = Limits(anon_conns_per_ip=1_000_000, login_timeout=3600, logins_per_ip_burst=1_000_000)
    cfg = ServerConfig(port=0, data_dir=Path(sys.argv[1]), secret_key=sys.argv[2],
                       sdkappid=int(sys.argv[3]), limits=limits)
    server = Server(cfg)
    await server.start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    os.write(1, f"port {server.port}\\n".encode())
    await stop.wait()
    await server.stop()

asyncio.run(main())
"""


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def settle(pid: int) -> int:
    """RSS once the server is idle again (its CPU time stops moving)."""
    last = -1.0
    while True:
        cpu = proc_cpu_seconds(pid)
        if cpu == last:
            return rss_kib(pid)
        last = cpu
        await asyncio.sleep(0.5)  # a measurement interval, not a race workaround


async def login(url: str, user: str) -> ClientConnection:
    ws = await connect(url, compression=None)
    sig = make_usersig(SECRET_KEY, SDKAPPID, user, int(time.time()), 86400)
    await ws.send(
        json.dumps(
            {
                "t": "req",
                "id": 1,
                "op": "login",
                "body": {"user_id": user, "user_sig": sig, "sdkappid": SDKAPPID},
            }
        )
    )
    reply = json.loads(await ws.recv())
    assert reply.get("code", 0) == 0, reply
    return ws


async def main(count: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    data = Path(tempfile.mkdtemp(prefix="opentim-conns-"))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SERVER,
        str(data),
        SECRET_KEY,
        str(SDKAPPID),
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert proc.stdout is not None
    line = await proc.stdout.readline()
    url = f"ws://127.0.0.1:{int(line.split()[1])}/ws"
    try:
        base = await settle(proc.pid)
        idle = []
        for k in range(0, count, 100):
            idle += await asyncio.gather(
                *(connect(url, compression=None) for _ in range(min(100, count - k)))
            )
        after_idle = await settle(proc.pid)
        users = []
        for k in range(0, count, 50):
            users += await asyncio.gather(
                *(login(url, f"u{i}") for i in range(k, min(k + 50, count)))
            )
        after_users = await settle(proc.pid)
        idle_kib = (after_idle - base) / count
        user_kib = (after_users - after_idle) / count
        print(f"server RSS: {base / 1024:.1f} MiB empty")
        print(f"  + {count:,} connections not logged in: {idle_kib:.1f} KiB each")
        print(f"  + {count:,} logged-in users (one connection each): {user_kib:.1f} KiB each")
        print(f"open-file limit of this machine: soft {soft}, hard {hard}")
        print(
            json.dumps(
                {
                    "bench": "connections",
                    "count": count,
                    "base_rss_kib": base,
                    "idle_kib_per_conn": round(idle_kib, 1),
                    "logged_in_kib_per_conn": round(user_kib, 1),
                    "nofile_soft": soft,
                    "nofile_hard": hard,
                }
            )
        )
        for ws in idle + users:
            await ws.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        await proc.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--count", type=int, default=2000)
    asyncio.run(main(parser.parse_args().count))
