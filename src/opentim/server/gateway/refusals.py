"""Refused requests in the log, at INFO: each one while they are few, a summary in a flood.

A broken client or a rate limit can refuse thousands of requests a second; a line each would
drown the log (and cost more than the refusal). So in each interval the first ``burst`` refusals
get a line of their own, the rest are only counted, and when the interval ends one line sums it
up: ``refused 1234 requests in the last 10 s: 6017×1200, 9506×34`` (every refusal of the
interval, by code, most frequent first).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable

INTERVAL = 10.0
BURST = 10


class RefusalLog:
    """Counts refusals per interval; ``clock`` is injectable for tests."""

    def __init__(
        self,
        logger: logging.Logger,
        *,
        interval: float = INTERVAL,
        burst: int = BURST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.log = logger
        self.interval = interval
        self.burst = burst
        self.clock = clock
        self._since: float | None = None
        self._counts: Counter[int] = Counter()
        self._held = 0
        self._timer: asyncio.TimerHandle | None = None
        self._timer_loop: asyncio.AbstractEventLoop | None = None

    def refused(self, code: int, desc: str, op: str = "", who: str = "") -> None:
        """Note one refused request (``op`` of ``who``, answered ``code`` ``desc``)."""
        if not self.log.isEnabledFor(logging.INFO):
            return
        now = self.clock()
        self._roll(now)
        if self._since is None:
            self._since = now
        self._counts[code] += 1
        if sum(self._counts.values()) <= self.burst:
            self.log.info(
                "refused %s%s: %d %s", op or "a request", f" of {who}" if who else "", code, desc
            )
            return
        self._held += 1
        self._schedule(self._since + self.interval - now)

    def flush(self) -> None:
        """Write the summary of an interval that has ended (the timer calls it on time)."""
        self._roll(self.clock())

    def _roll(self, now: float) -> None:
        if self._since is None or now - self._since < self.interval:
            return
        if self._held:
            total = sum(self._counts.values())
            codes = ", ".join(f"{code}×{n}" for code, n in self._counts.most_common())
            self.log.info("refused %d requests in the last %g s: %s", total, self.interval, codes)
        self._since, self._held = None, 0
        self._counts.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _schedule(self, delay: float) -> None:
        """On a running loop, flush when the interval ends even if no refusal follows."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a unit test): the next refusal or flush() rolls over
            return
        if self._timer is not None and self._timer_loop is loop:
            return
        self._timer_loop = loop
        self._timer = loop.call_later(max(delay, 0.0), self._on_time)

    def _on_time(self) -> None:
        self._timer = None
        if self._since is not None:  # on time by the loop's clock, whatever ``clock`` says
            self._roll(max(self.clock(), self._since + self.interval))


REFUSALS = RefusalLog(logging.getLogger("opentim.server.refusals"))
"""The server's refusal log: every refused request is noted here, whatever refused it
(``dispatch.error_frame`` for the services, the gateway for protocol-level refusals)."""
