"""Conversation filters over the synced list: ordered indexes, stable paging, unread totals.

The SDK holds the user's whole conversation list, so filters, paging and filtered unread totals
are answered here, without the server:

- ``ConvIndex`` keeps every visible conversation in sorted lists, one for the whole list and one
  per facet a filter can name (type, conversation group, mark bit, has-unread, has-@): a page
  walks the shortest list the filter allows, so its cost follows the page, not the list.
- Paging is stable by *passes*: the first call (``next_seq`` 0) freezes the candidate order (a
  copy of one list of keys, a memory copy even at 100,000) and every later page of that pass
  walks the frozen order, testing each conversation's *current* state against the filter. So a
  conversation that moves while the app pages (a new message arrives) is returned once, at the
  place it had when the pass began, never twice and never skipped. A conversation that starts
  to match only during the pass is not part of it; the app hears of it through the conversation
  event.
- ``Subscription`` keeps a running unread total per subscribed filter: each conversation change
  adds ``contribution(new) - contribution(old)``, O(1) per subscription whatever the list size.
  A filter whose total was asked without a subscription is kept the same way (the last 16), so
  only the first question walks the list.
"""

from __future__ import annotations

import bisect
import functools
import itertools
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

from opentim.protocol import UNCOUNTED_RECV_OPTS, Conversation, Mark

Key = tuple[int, str]
SortKey = tuple[int, int, str]
"""``(-order_key, conv_type, conv_id)``: ascending order is the list's order."""

MAX_PASSES = 64
"""Paging passes kept at once; the oldest is dropped first."""
MAX_CACHED_TOTALS = 16
"""Unsubscribed filters whose unread total is kept up to date after it was asked once (the
least recently asked is dropped first): asking again costs nothing."""
PASS_SHIFT = 32
"""``next_seq`` = pass number << 32 | position in the pass's frozen order."""


@dataclass(frozen=True, slots=True)
class ConvFilter:
    """TIMConversationListFilter. A field left None does not filter.

    ``group``: a conversation-group name, or ``""`` for conversations in no group. ``mark``:
    conversations carrying all of these mark bits, or ``0`` for conversations with no mark.
    """

    conv_type: int | None = None
    group: str | None = None
    mark: int | None = None
    has_unread: bool | None = None
    has_at: bool | None = None

    def matches(self, e: Entry) -> bool:
        """Whether the conversation of ``e`` is selected by this filter."""
        if self.conv_type is not None and e.conv_type != self.conv_type:
            return False
        if self.group is not None:
            if self.group == "":
                if e.groups:
                    return False
            elif self.group not in e.groups:
                return False
        if self.mark is not None:
            if self.mark == 0:
                if e.marks:
                    return False
            elif e.marks & self.mark != self.mark:
                return False
        if self.has_unread is not None and (e.unread > 0) != self.has_unread:
            return False
        return self.has_at is None or e.has_at == self.has_at

    def lists(self, entry: Entry) -> bool:
        """Whether a page of this filter shows the conversation: it matches, and it is not
        hidden (the Hide mark) unless the filter asks for hidden ones."""
        if entry.hidden and not (self.mark and self.mark & Mark.HIDE):
            return False
        return self.matches(entry)

    def facets(self) -> list[object]:
        """The index lists a conversation must be in to match (the whole list when none)."""
        found: list[object] = []
        if self.conv_type is not None:
            found.append(("t", self.conv_type))
        if self.group:
            found.append(("g", self.group))
        if self.mark:
            found += [("m", bit) for bit in _bits(self.mark)]
        if self.has_unread:
            found.append("unread")
        if self.has_at:
            found.append("at")
        return found


def _bits(mask: int) -> Iterator[int]:
    while mask:
        low = mask & -mask
        yield low
        mask ^= low


@functools.lru_cache(maxsize=4096)
def _tags(
    conv_type: int, groups: tuple[str, ...], marks: int, unread: bool, has_at: bool
) -> frozenset[object]:
    """The index lists a conversation belongs in; most conversations share a few such sets,
    so each is built once (a cold start indexes thousands of snapshots)."""
    tags: list[object] = ["all", ("t", conv_type)]
    tags += [("g", name) for name in groups]
    tags += [("m", bit) for bit in _bits(marks)]
    if unread:
        tags.append("unread")
    if has_at:
        tags.append("at")
    return frozenset(tags)


class Entry:
    """What the index and filters need of one conversation, computed once per snapshot."""

    __slots__ = (
        "conv",
        "conv_type",
        "counted",
        "groups",
        "has_at",
        "hidden",
        "marks",
        "sort_key",
        "tags",
        "unread",
    )

    def __init__(self, conv: Conversation) -> None:
        self.conv = conv
        self.conv_type = conv.conv_type
        self.sort_key: SortKey = (-conv.order_key, conv.conv_type, conv.conv_id)
        self.marks = conv.marks
        self.groups = frozenset(conv.groups)
        self.unread = conv.unread
        self.counted = 0 if conv.recv_opt in UNCOUNTED_RECV_OPTS else self.unread
        self.has_at = bool(conv.at_info)
        self.hidden = bool(conv.marks & Mark.HIDE)
        self.tags = _tags(
            conv.conv_type, tuple(conv.groups), conv.marks, bool(self.unread), self.has_at
        )


class Subscription:
    """A filter and its running unread total: subscribed (its changes are reported), or only
    kept because the app asked for its total."""

    __slots__ = ("filter", "notified", "subscribed", "total")

    def __init__(self, conv_filter: ConvFilter, total: int, subscribed: bool) -> None:
        self.filter = conv_filter
        self.total = total
        self.notified = total
        self.subscribed = subscribed

    def contribution(self, e: Entry | None) -> int:
        return e.counted if e is not None and e.counted and self.filter.matches(e) else 0


class ConvIndex:
    """Visible conversations in order, per facet; paging passes; unread subscriptions."""

    def __init__(self) -> None:
        self.entries: dict[Key, Entry] = {}
        self.lists: dict[object, list[SortKey]] = {"all": []}
        self.subs: dict[ConvFilter, Subscription] = {}
        self._passes: OrderedDict[int, tuple[ConvFilter, list[SortKey]]] = OrderedDict()
        self._pass_ids = itertools.count(1)

    def clear(self) -> None:
        self.entries.clear()
        self.lists = {"all": []}
        for sub in self.subs.values():
            sub.total = sub.notified = 0
        self._passes.clear()

    # --- upkeep -----------------------------------------------------------------------------
    def load(self, convs: list[Conversation]) -> None:
        """Index many snapshots into an empty index at once (a cold start from the local
        cache): each list is sorted once instead of taking one insertion per conversation."""
        for conv in convs:
            if conv.deleted:
                continue
            entry = Entry(conv)
            self.entries[(conv.conv_type, conv.conv_id)] = entry
            for tag in entry.tags:
                self.lists.setdefault(tag, []).append(entry.sort_key)
        for items in self.lists.values():
            items.sort()
        for sub in self.subs.values():
            sub.total = sub.notified = self._scan_total(sub.filter)

    def update(self, key: Key, conv: Conversation | None) -> None:
        """Index the new snapshot of ``key`` (None or deleted: out of the index)."""
        old = self.entries.get(key)
        new = Entry(conv) if conv is not None and not conv.deleted else None
        if old is not None:
            keep = new.tags if new is not None and new.sort_key == old.sort_key else frozenset()
            for tag in old.tags - keep:
                self._remove(tag, old.sort_key)
        if new is not None:
            self.entries[key] = new
            keep = old.tags if old is not None and new.sort_key == old.sort_key else frozenset()
            for tag in new.tags - keep:
                bisect.insort(self.lists.setdefault(tag, []), new.sort_key)
        else:
            self.entries.pop(key, None)
        for sub in self.subs.values():
            delta = sub.contribution(new) - sub.contribution(old)
            if delta:
                sub.total += delta

    def _remove(self, tag: object, sort_key: SortKey) -> None:
        items = self.lists[tag]
        i = bisect.bisect_left(items, sort_key)
        if i < len(items) and items[i] == sort_key:
            del items[i]
        if not items and tag != "all":
            del self.lists[tag]

    # --- reading ----------------------------------------------------------------------------
    def ordered(self, include_hidden: bool = False) -> list[Conversation]:
        """The list in order (largest order key first); hidden ones only when asked."""
        entries = self.entries
        out = [entries[(t, i)] for _, t, i in self.lists["all"]]
        return [e.conv for e in out if include_hidden or not e.hidden]

    def candidates(self, conv_filter: ConvFilter, extra: object = None) -> list[SortKey]:
        """The shortest index list that holds every conversation the filter can match."""
        facets = conv_filter.facets()
        if extra is not None:
            facets.append(extra)
        best = self.lists["all"]
        for facet in facets:
            items = self.lists.get(facet)
            if items is None:
                return []
            if len(items) < len(best):
                best = items
        return best

    def page(
        self, conv_filter: ConvFilter, next_seq: int, count: int
    ) -> tuple[list[Conversation], int, bool]:
        """One page of a pass; ``next_seq`` 0 starts a new pass.

        Returns the conversations, the ``next_seq`` to ask for the next page (0 when
        finished) and whether the pass is finished.

        Raises:
            KeyError: ``next_seq`` is not a position of a live pass (or another filter's).
        """
        if next_seq == 0:
            pass_id = next(self._pass_ids)
            frozen = list(self.candidates(conv_filter))
            self._passes[pass_id] = (conv_filter, frozen)
            while len(self._passes) > MAX_PASSES:
                self._passes.popitem(last=False)
            pos = 0
        else:
            pass_id, pos = next_seq >> PASS_SHIFT, next_seq & ((1 << PASS_SHIFT) - 1)
            known = self._passes.get(pass_id)
            if known is None or known[0] != conv_filter:
                raise KeyError(next_seq)
            frozen = known[1]
            self._passes.move_to_end(pass_id)
        entries = self.entries
        found: list[Conversation] = []
        end = len(frozen)
        while pos < end:
            _, conv_type, conv_id = frozen[pos]
            entry = entries.get((conv_type, conv_id))
            if entry is not None and conv_filter.lists(entry):
                if len(found) == count:
                    return found, pass_id << PASS_SHIFT | pos, False
                found.append(entry.conv)
            pos += 1
        del self._passes[pass_id]
        return found, 0, True

    def unread_total(self, conv_filter: ConvFilter | None) -> int:
        """Unread over the conversations the filter selects, without do-not-disturb ones."""
        if conv_filter is None:
            conv_filter = ConvFilter()
        sub = self.subs.get(conv_filter)
        if sub is not None:
            if not sub.subscribed:
                self.subs[conv_filter] = self.subs.pop(conv_filter)  # the most recently asked
            return sub.total
        total = self._scan_total(conv_filter)
        self.subs[conv_filter] = Subscription(conv_filter, total, subscribed=False)
        cached = [f for f, s in self.subs.items() if not s.subscribed]
        for stale in cached[: max(0, len(cached) - MAX_CACHED_TOTALS)]:
            del self.subs[stale]
        return total

    def _scan_total(self, conv_filter: ConvFilter) -> int:
        if conv_filter.has_unread is False:
            return 0
        entries = self.entries
        total = 0
        matches = conv_filter.matches
        for _, conv_type, conv_id in self.candidates(conv_filter, "unread"):
            entry = entries[(conv_type, conv_id)]
            if entry.counted and matches(entry):
                total += entry.counted
        return total

    # --- subscriptions ----------------------------------------------------------------------
    def subscribe(self, conv_filter: ConvFilter) -> None:
        sub = self.subs.get(conv_filter)
        if sub is None:
            total = self._scan_total(conv_filter)
            self.subs[conv_filter] = Subscription(conv_filter, total, subscribed=True)
        elif not sub.subscribed:
            sub.subscribed, sub.notified = True, sub.total

    def unsubscribe(self, conv_filter: ConvFilter) -> bool:
        sub = self.subs.get(conv_filter)
        if sub is None or not sub.subscribed:
            return False
        del self.subs[conv_filter]
        return True

    def changed_totals(self) -> list[tuple[ConvFilter, int]]:
        """Subscribed filters whose total differs from the one last reported (now reported)."""
        changed: list[tuple[ConvFilter, int]] = []
        for sub in self.subs.values():
            if sub.subscribed and sub.total != sub.notified:
                sub.notified = sub.total
                changed.append((sub.filter, sub.total))
        return changed
