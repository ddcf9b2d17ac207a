"""Which later issue makes each TIM function opentim does not have yet real: the one table behind
the "not yet" answers (``pending.py``, generated from it and from the reference's signatures by
scripts/gen_tim_functions.py) and behind docs/tim-coverage.md.

A function that is not yet real exists with its reference signature, checks its arguments like
every TIM function (DESIGN §6), and answers ``NOT_YET_CODE`` through its callback.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from opentim.protocol import ErrorCode

NOT_YET_CODE: Final = int(ErrorCode.ERR_SDK_INTERFACE_NOT_SUPPORT)
"""What a function that is not real yet answers (7013, ``ERR_SDK_INTERFACE_NOT_SUPPORT``)."""

LATER: Final = 0
"""The "issue" of a function no filed issue makes real yet."""

BY_HEADER: Final[Mapping[str, int]] = MappingProxyType(
    {
        # Issue 11 (apps start and run unchanged) makes these headers real in full; what is
        # left of them waits for its server side (profiles, friendship, push tokens).
        "TIMManager.h": 11,
        "TIMFriendshipManager.h": 11,
        "TIMOfflinePushManager.h": 11,
        "TIMExperimentalAPI.h": 11,
        # Issue 12: messages in full.
        "TIMMessageManager.h": 12,
        # Group attributes and counters, communities, signaling: no issue filed yet.
        "TIMGroupManager.h": LATER,
        "TIMCommunityManager.h": LATER,
        "TIMSignalingManager.h": LATER,
        "TIMConversationManager.h": LATER,
    }
)
"""The issue that makes a header's not-yet functions real, unless ``BY_FUNCTION`` says else."""

BY_FUNCTION: Final[Mapping[str, int]] = MappingProxyType(
    {
        # Tencent's SDK notifies its own internal events there; opentim has none planned.
        "TIMSetExperimentalNotifyCallback": LATER,
    }
)
"""Functions whose issue is not their header's."""


def planned_issue(name: str, header: str) -> int:
    """The issue that makes ``name`` (declared in ``header``) real; ``LATER`` when none is filed."""
    return BY_FUNCTION.get(name, BY_HEADER.get(header, LATER))


def issue_text(issue: int) -> str:
    """``"issue 12"``, or ``"a later issue"``."""
    return f"issue {issue}" if issue != LATER else "a later issue"
