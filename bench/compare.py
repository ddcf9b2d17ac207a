"""Compare two checkouts on the same machine in one run: interleaved C2C runs, medians, ratios.

A noisy shared machine moves every figure from minute to minute; comparing a "before" figure
measured an hour ago with an "after" figure measured now says more about the machine than about
the change. This runs ``bench/c2c_throughput.py`` of each checkout alternately (before, after,
before, after, …), each with its own virtualenv, and reports per side the median server CPU per
message (the figure least disturbed by the load generator, DESIGN §5a) and msgs/s, plus the
median of the paired after/before ratios (a pair is one before run and the after run next to it).

Usage: ``python bench/compare.py BEFORE_DIR AFTER_DIR [--runs 5] [--duration 5]
[--phase closed-2] [--budget 5]``. Each directory is a checkout with ``.venv`` installed
(``git worktree add DIR REV && cd DIR && python3 -m venv .venv && .venv/bin/pip install -e
'.[server]'``). Exits 1 when the median paired CPU ratio is more than ``--budget`` percent worse.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any


def run_once(checkout: Path, phase: str, duration: float) -> dict[str, Any]:
    """One c2c_throughput run of ``checkout``: its summary of ``phase``."""
    cmd = [
        str(checkout / ".venv" / "bin" / "python"),
        str(checkout / "bench" / "c2c_throughput.py"),
        "--phases",
        phase,
        "--duration",
        str(duration),
    ]
    out = subprocess.run(cmd, cwd=checkout, capture_output=True, text=True, check=True).stdout
    summary = json.loads(out.strip().splitlines()[-1])
    result: dict[str, Any] = summary["phases"][phase]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("before", type=Path, help="checkout measured first in each pair")
    parser.add_argument("after", type=Path, help="checkout measured second in each pair")
    parser.add_argument("--runs", type=int, default=5, help="pairs (default 5)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per run (default 5)")
    parser.add_argument("--phase", default="closed-2", help="c2c_throughput phase (closed-2)")
    parser.add_argument("--budget", type=float, default=5.0, help="allowed CPU/msg loss, percent")
    args = parser.parse_args()
    if not 1 <= args.runs <= 50:
        parser.error("--runs takes 1 to 50")
    sides: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    for i in range(args.runs):
        for name, checkout in (("before", args.before), ("after", args.after)):
            r = run_once(checkout.resolve(), args.phase, args.duration)
            sides[name].append(r)
            print(
                f"pair {i + 1} {name:<6} {r['msgs_per_s']:>8.1f} msgs/s  "
                f"server CPU {r['server_cpu_us_per_msg']} µs/msg",
                flush=True,
            )
    cpu = {k: [float(r["server_cpu_us_per_msg"]) for r in v] for k, v in sides.items()}
    rate = {k: [float(r["msgs_per_s"]) for r in v] for k, v in sides.items()}
    ratios = [a / b for a, b in zip(cpu["after"], cpu["before"], strict=True)]
    ratio = statistics.median(ratios)
    report = {
        "phase": args.phase,
        "runs": args.runs,
        "duration_s": args.duration,
        "cpu_us_per_msg_median": {k: round(statistics.median(v), 1) for k, v in cpu.items()},
        "msgs_per_s_median": {k: round(statistics.median(v), 1) for k, v in rate.items()},
        "paired_cpu_ratio_median": round(ratio, 3),
        "paired_cpu_ratios": [round(r, 3) for r in ratios],
    }
    med = report["cpu_us_per_msg_median"]
    msgs = report["msgs_per_s_median"]
    print(
        f"server CPU µs/msg median: before {med['before']}  after {med['after']}   "
        f"msgs/s median: before {msgs['before']}  after {msgs['after']}   "
        f"paired CPU ratio median {ratio:.3f}",
        flush=True,
    )
    print(json.dumps(report), flush=True)
    if ratio > 1 + args.budget / 100:
        print(f"more than {args.budget:g} % more server CPU per message", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
