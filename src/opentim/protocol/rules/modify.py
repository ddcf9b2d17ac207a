"""Which changes TIMMsgModifyMessage allows (Tencent's rules, in our words).

Any participant of a conversation (C2C: either user; group: any member) may modify a message
that is there and not revoked. The cloud custom data of any message may change; its elements
only when the message is made of text, custom, face and location elements and the new ones have
the same kinds in the same order (a text stays a text). Concurrent edits are refused by the
store, not here: a modification names the version it started from (``Message.version``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

MODIFIABLE_ELEMS = frozenset({0, 3, 6, 7})
"""kTIMElem_Text, kTIMElem_Custom, kTIMElem_Face, kTIMElem_Location."""


def _kinds(elems: Sequence[dict[str, Any]]) -> list[object]:
    return [e.get("elem_type") for e in elems]


def elems_modifiable(old: Sequence[dict[str, Any]], new: Sequence[dict[str, Any]]) -> bool:
    """Whether a message with elements ``old`` may get elements ``new``.

    Unchanged elements are always allowed (a change of cloud custom data only); otherwise the
    kinds must match position by position and each be one Tencent lets change.
    """
    if list(old) == list(new):
        return True
    kinds = _kinds(old)
    return kinds == _kinds(new) and all(k in MODIFIABLE_ELEMS for k in kinds)
