"""Shared helpers for the benchmark scripts: run a server subprocess, read its CPU time from
``/proc/<pid>/stat``, compute percentiles, and describe the machine.

Not a benchmark itself; the scripts next to it import it (``python bench/<script>.py`` puts this
directory first on ``sys.path``).
"""

from __future__ import annotations

import contextlib
import math
import os
import platform
import re
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

SDKAPPID = 1400000000
SECRET_KEY = "opentim-bench-secret-key"
CLK_TCK = os.sysconf("SC_CLK_TCK")
_LISTENING = re.compile(r"opentim listening on (ws://\S+)")


def _stat_cpu_seconds(path: str) -> float:
    with open(path, "rb") as f:
        stat = f.read()
    # The command name may hold spaces or parentheses: the fields start after the last ')'.
    fields = stat[stat.rindex(b")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / CLK_TCK


def machine_busy_seconds() -> float:
    """CPU seconds all CPUs spent busy since boot (every /proc/stat "cpu" field but idle and
    iowait); the difference of two samples, less the server's and the load's, is what other
    processes took from the run."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    # guest time is already counted in user time
    return (sum(fields[:8]) - idle) / CLK_TCK


def busy_cores(seconds: float = 0.5) -> float:
    """How many CPUs the machine kept busy over the next ``seconds`` (this process sleeps)."""
    before = machine_busy_seconds()
    time.sleep(seconds)
    return (machine_busy_seconds() - before) / seconds


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (all its threads), from /proc/<pid>/stat."""
    return _stat_cpu_seconds(f"/proc/{pid}/stat")


def thread_cpu_seconds(pid: int) -> dict[int, float]:
    """CPU seconds of each live thread of ``pid`` (thread id → seconds); the main thread's id is
    ``pid``."""
    found: dict[int, float] = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError, ValueError):
            found[int(tid)] = _stat_cpu_seconds(f"/proc/{pid}/task/{tid}/stat")
    return found


def split_main_thread(
    pid: int, before: dict[int, float], after: dict[int, float]
) -> tuple[float, float]:
    """CPU seconds spent between two ``thread_cpu_seconds`` samples: (main thread, the others)."""
    main = after.get(pid, 0.0) - before.get(pid, 0.0)
    others = sum(v - before.get(tid, 0.0) for tid, v in after.items() if tid != pid)
    return main, others


def pids_named(*names: str) -> list[int]:
    """Processes whose command name (``/proc/<pid>/comm``) is one of ``names``."""
    found: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError), open(f"/proc/{entry}/comm") as f:
            if f.read().strip() in names:
                found.append(int(entry))
    return found


def cpu_seconds_of(pids: Sequence[int]) -> dict[int, float]:
    """User + system CPU seconds of each live process among ``pids``."""
    found: dict[int, float] = {}
    for pid in pids:
        with contextlib.suppress(OSError, ValueError):
            found[pid] = proc_cpu_seconds(pid)
    return found


def cpu_since(names: Sequence[str], before: dict[int, float]) -> float:
    """CPU seconds the processes called ``names`` spent since ``before`` (a ``cpu_seconds_of``
    sample); one started since counts whole (a database backend opened during the run)."""
    after = cpu_seconds_of(pids_named(*names))
    return sum(v - before.get(pid, 0.0) for pid, v in after.items())


def self_cpu_seconds() -> float:
    """User + system CPU seconds of the calling process."""
    t = os.times()
    return t.user + t.system


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of already sorted values (NaN when there are none)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), math.ceil(p / 100 * len(sorted_values))))
    return sorted_values[rank - 1]


def opentim_command() -> list[str]:
    """The ``opentim`` console script of the running interpreter's environment."""
    script = Path(sys.executable).parent / "opentim"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from opentim.cli import main; main()"]


def filesystem_of(path: Path) -> str:
    """The filesystem type holding ``path`` (from /proc/mounts), e.g. ``ext4`` or ``tmpfs``."""
    best, kind = "", "unknown"
    target = str(path.resolve())
    with contextlib.suppress(OSError), open("/proc/mounts") as f:
        for line in f:
            parts = line.split()
            if len(parts) < 3:
                continue
            mount = parts[1]
            inside = target == mount or target.startswith(mount.rstrip("/") + "/")
            if inside and len(mount) > len(best):
                best, kind = mount, parts[2]
    return kind


def machine() -> dict[str, Any]:
    """nproc, CPU model, Python version and kernel, for the report."""
    model = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.lower().startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


class ServerProcess:
    """``opentim serve --port 0`` as a subprocess; ``url`` once it listens, ``cpu_seconds()``.

    Output goes to ``<data_dir>.log`` (no pipe to fill). Stopped with SIGTERM, then SIGKILL.
    """

    def __init__(
        self, data_dir: Path, secret_key: str = SECRET_KEY, extra_args: Sequence[str] = ()
    ) -> None:
        self.data_dir = data_dir
        self.secret_key = secret_key
        self.extra_args = list(extra_args)
        self.log_path = data_dir.with_name(data_dir.name + ".log")
        self.url = ""
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def start(self, timeout: float = 30.0) -> str:
        cmd = [
            *opentim_command(),
            "serve",
            "--port",
            "0",
            "--data-dir",
            str(self.data_dir),
            "--secret-key",
            self.secret_key,
            *self.extra_args,
        ]
        # Appended, so a restarted server's log follows the first one's; only the new part is
        # searched for the listening line.
        start = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log_path.read_bytes()[start:].decode(errors="replace")
            found = _LISTENING.search(text)
            if found:
                self.url = found.group(1)
                return self.url
            if self._proc.poll() is not None:
                raise RuntimeError(f"server exited with {self._proc.returncode}:\n{text}")
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"server did not print its listening line within {timeout} s")

    def cpu_seconds(self) -> float:
        return proc_cpu_seconds(self.pid)

    def thread_cpu_seconds(self) -> dict[int, float]:
        return thread_cpu_seconds(self.pid)

    def stop(self, timeout: float = 15.0) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
