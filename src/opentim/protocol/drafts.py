"""Draft edit times: what stamps an edit, and which of two edits wins (DESIGN §3).

``draft_edit_time`` is read-only in the reference's headers (the SDK fills it): the SDK stamps
each set or cancel from its own clock, in UTC seconds, and an app's value is ignored. The
server keeps, per conversation, the stamp of the edit it holds; an edit that arrives later
replaces it when its stamp is not earlier (``protocol.rules.draft_edit_wins``).
"""

from __future__ import annotations

import time
from typing import Final

UINT32_MAX: Final = 2**32 - 1
"""``draft_edit_time`` is a ``uint`` in the headers: stamps are seconds that fit 32 bits."""


def now_stamp() -> int:
    """The SDK's stamp for an edit made now: UTC seconds."""
    return int(time.time())


def draft_stamp(sent: int, now: int) -> int:
    """The stamp the server keeps for an edit stamped ``sent``, arriving at server time ``now``.

    A stamp is never later than the server's clock: a device whose clock runs ahead, or an
    older SDK passing on an app's value in milliseconds or .NET ticks, would otherwise hold
    the draft against every later edit. A missing stamp (0) is now.
    """
    return now if sent <= 0 or sent > now else sent
