"""TIMMsgGetMsgList's parameters (MsgGetMsgListParam), checked at the call, and the query they
make: older or newer than an anchor, in a time window, of some element types, or at seqs."""

from __future__ import annotations

from dataclasses import dataclass

from opentim.protocol import Message
from opentim.protocol.limits import MAX_HISTORY_PAGE
from opentim.sdk import Client

from . import keys as k
from .convert import JsonObject, field, opt_bool, opt_obj, opt_uint, param_error

DEFAULT_MSG_COUNT = 20
"""``msg_getmsglist_param_count`` when it is absent or 0."""


@dataclass(frozen=True)
class ListQuery:
    count: int
    forward: bool
    anchor: int
    """Older than this seq (backward) or newer (forward); 0: from the newest / oldest."""
    time_begin: int
    time_end: int
    """The window of ``server_time`` kept; 0 for no end."""
    types: frozenset[int]
    seqs: list[int]

    @property
    def filtered(self) -> bool:
        return bool(self.time_begin or self.time_end or self.types)

    def keeps(self, msg: Message) -> bool:
        if msg.server_time < self.time_begin or (self.time_end and msg.server_time > self.time_end):
            return False
        return not self.types or any(e.get(k.ELEM_TYPE) in self.types for e in msg.elems)

    def past(self, msg: Message) -> bool:
        """Whether paging on from ``msg`` can only leave the time window."""
        if self.forward:
            return bool(self.time_end) and msg.server_time > self.time_end
        return msg.server_time < self.time_begin

    async def run(self, client: Client, conv_type: int, conv_id: str) -> list[Message]:
        messages = client.messages
        if self.seqs:
            found = await messages.find_at(conv_type, conv_id, self.seqs)
            return [m for m in found if self.keeps(m)]
        out: list[Message] = []
        cursor = self.anchor
        while len(out) < self.count:
            # Filtered, a page may keep few: ask for whole pages.
            want = MAX_HISTORY_PAGE if self.filtered else self.count - len(out)
            if self.forward:
                page = await messages.newer(conv_type, conv_id, cursor, want)
            else:
                page = await messages.history(conv_type, conv_id, cursor, want)
            out += [m for m in page if self.keeps(m)]
            if len(page) < want or self.past(page[-1]):
                break
            cursor = page[-1].seq
        return out[: self.count]


def list_query(obj: JsonObject) -> ListQuery:
    """The query of a MsgGetMsgListParam; TIM_ERR_PARAM for what cannot be one."""
    count = opt_uint(obj, k.MSG_GETMSGLIST_PARAM_COUNT) or DEFAULT_MSG_COUNT
    forward = opt_bool(obj, k.MSG_GETMSGLIST_PARAM_IS_FORWARD)
    last = opt_uint(opt_obj(obj, k.MSG_GETMSGLIST_PARAM_LAST_MSG), k.MESSAGE_SEQ)
    if last:
        anchor = last
    else:
        # The seq given is included: one past it, the other way.
        seq = opt_uint(obj, k.MSG_GETMSGLIST_PARAM_LAST_MSG_SEQ)
        anchor = (seq - 1 if forward else seq + 1) if seq else 0
    begin = opt_uint(obj, k.MSG_GETMSGLIST_PARAM_TIME_BEGIN)
    period = opt_uint(obj, k.MSG_GETMSGLIST_PARAM_TIME_PERIOD)
    if begin >= 2**40 or period >= 2**40:
        raise param_error("the time window must be in seconds")
    types: list[int] = field(obj, k.MSG_GETMSGLIST_PARAM_MESSAGE_TYPE_ARRAY, [], _uint_list)
    seqs: list[int] = field(obj, k.MSG_GETMSGLIST_PARAM_MESSAGE_SEQ_ARRAY, [], _uint_list)
    if len(seqs) > MAX_HISTORY_PAGE:
        raise param_error(f"{k.MSG_GETMSGLIST_PARAM_MESSAGE_SEQ_ARRAY}: at most {MAX_HISTORY_PAGE}")
    return ListQuery(
        count=count,
        forward=forward,
        anchor=anchor,
        time_begin=begin,
        time_end=begin + period if period else 0,
        types=frozenset(types),
        seqs=sorted(set(seqs)),
    )


def _uint_list(value: object) -> bool:
    return isinstance(value, list) and all(type(v) is int and 0 <= v < 2**63 for v in value)


__all__ = ["DEFAULT_MSG_COUNT", "ListQuery", "list_query"]
