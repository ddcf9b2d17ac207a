"""ConvIndex against a naive model: pages, totals and subscriptions after random changes."""

from __future__ import annotations

import random

from opentim.protocol import AtInfo, Conversation, Mark
from opentim.sdk.filters import ConvFilter, ConvIndex

FILTERS = [
    ConvFilter(),
    ConvFilter(conv_type=1),
    ConvFilter(conv_type=2, has_unread=True),
    ConvFilter(group="a"),
    ConvFilter(group=""),
    ConvFilter(mark=Mark.STAR),
    ConvFilter(mark=0),
    ConvFilter(mark=Mark.STAR | 1 << 40, has_at=False),
    ConvFilter(has_unread=False),
    ConvFilter(has_at=True, group="b"),
    ConvFilter(mark=Mark.HIDE),
]


def random_conv(rng: random.Random, i: int, pos: int) -> Conversation:
    count = rng.randrange(5)
    marks = rng.choice([0, Mark.STAR, Mark.HIDE, Mark.STAR | 1 << 40, Mark.FOLD])
    return Conversation(
        conv_type=rng.choice([1, 2]),
        conv_id=f"c{i}",
        count=count,
        read_count=rng.randrange(count + 1),
        activity=pos,
        pinned=rng.random() < 0.1,
        deleted=rng.random() < 0.05,
        recv_opt=rng.choice([0, 0, 0, 1, 2, 3, 4]),
        marks=marks,
        groups=rng.sample(["a", "b", "c"], rng.randrange(3)),
        at_info=[AtInfo(seq=1, at_type=1)] if rng.random() < 0.2 else [],
        pos=pos,
    )


def naive_page(convs: dict[str, Conversation], f: ConvFilter) -> list[str]:
    index = ConvIndex()
    out = []
    for c in sorted(convs.values(), key=lambda c: (-c.order_key, c.conv_type, c.conv_id)):
        if c.deleted:
            continue
        index.update((c.conv_type, c.conv_id), c)
        entry = index.entries[(c.conv_type, c.conv_id)]
        if f.lists(entry):
            out.append(c.conv_id)
    return out


def naive_total(convs: dict[str, Conversation], f: ConvFilter) -> int:
    total = 0
    index = ConvIndex()
    for c in convs.values():
        if c.deleted:
            continue
        index.update((c.conv_type, c.conv_id), c)
        if f.matches(index.entries[(c.conv_type, c.conv_id)]):
            total += c.counted_unread
    return total


def test_index_agrees_with_a_naive_scan_after_random_changes() -> None:
    rng = random.Random(7)
    index = ConvIndex()
    for f in FILTERS[:4]:
        index.subscribe(f)
    convs: dict[str, Conversation] = {}
    keys: dict[str, tuple[int, str]] = {}
    for step in range(1, 1500):
        i = rng.randrange(120)
        conv = random_conv(rng, i, step)
        old_key = keys.get(conv.conv_id)
        if old_key is not None and old_key != (conv.conv_type, conv.conv_id):
            index.update(old_key, None)
        keys[conv.conv_id] = (conv.conv_type, conv.conv_id)
        convs[conv.conv_id] = conv
        index.update((conv.conv_type, conv.conv_id), conv)
        if step % 100 == 0:
            for f in FILTERS:
                got: list[str] = []
                next_seq = 0
                while True:
                    page, next_seq, done = index.page(f, next_seq, 7)
                    got += [c.conv_id for c in page]
                    if done:
                        break
                assert got == naive_page(convs, f), f
                assert index.unread_total(f) == naive_total(convs, f), f
    for f in FILTERS[:4]:
        assert index.subs[f].total == naive_total(convs, f)
    assert sum(1 for s in index.subs.values() if not s.subscribed) <= 16


def test_subscription_totals_change_by_deltas_only() -> None:
    index = ConvIndex()
    f = ConvFilter(conv_type=1)
    index.subscribe(f)
    index.update((1, "a"), Conversation(conv_type=1, conv_id="a", count=3))
    index.update((2, "g"), Conversation(conv_type=2, conv_id="g", count=5))
    assert index.changed_totals() == [(f, 3)]
    assert index.changed_totals() == [], "reported once"
    index.update((1, "a"), Conversation(conv_type=1, conv_id="a", count=3, pinned=True))
    assert index.changed_totals() == [], "no change of total, no report"
    index.update((1, "a"), Conversation(conv_type=1, conv_id="a", count=3, recv_opt=2))
    assert index.changed_totals() == [(f, 0)]
