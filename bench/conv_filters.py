"""Conversation filters at scale: a filtered page of 100, a filtered unread total, and the cost
of one conversation change with subscribed filters, at 1,000 / 10,000 / 100,000 conversations.

Filters, paging, unread-by-filter and subscriptions are answered by the SDK over the synced
list (``opentim.sdk.filters``), so this measures the SDK alone, with no server: the state is
built directly from conversation snapshots through ``ConversationManager.apply``, the path a
sync page takes (100 snapshots per call, as the server's sync pages are). Each conversation is
synthetic but shaped like a real list: half C2C, half group; 10% starred, 5% carrying an app
mark; 10% in conversation group "work", 5% in "family"; 30% with unread messages; 3% of group
conversations with a pending @; 5% do-not-disturb; 2% pinned.

Measured, per size:
  (a) the first page (``next_seq`` 0: the pass is frozen) and a later page of 100 for four
      filters, median and max of 20 runs; plus the first page with each ConvInfo encoded to
      JSON as ``TIMConvGetConversationListByFilter`` hands it out;
  (b) ``unread_total(filter)`` for the same filters, not subscribed: the first question (a
      walk of the shortest index list with unread) and asking again (the total is kept up to
      date after the first question, as for a subscribed filter), median and max;
  (c) one conversation change (a new message: unread and order change) applied with 0, 10
      and 50 subscribed filters, microseconds per change: the subscribed totals are updated by
      the difference of the old and new snapshot, so the cost grows with the number of
      subscriptions, not with the number of conversations.

Targets at 10,000 conversations: a filtered page of 100 <= 5 ms, a filtered total <= 5 ms.

Usage: ``python bench/conv_filters.py [--quick] [--sizes 1000,10000,100000]``; the last line
printed is a JSON summary.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

import msgspec

from _common import busy_cores, machine
from opentim.protocol import AtInfo, Conversation, Mark, Message
from opentim.sdk import Client, ConvFilter
from opentim.sdk.filters import Subscription
from opentim.tim.convert import conv_info, encode

RUNS = 20
CHANGES = 5000
WARMUP = 500
TARGET_MS = 5.0
FILTERS: dict[str, ConvFilter] = {
    "c2c": ConvFilter(conv_type=1),
    "group work": ConvFilter(group="work"),
    "starred with unread": ConvFilter(mark=Mark.STAR, has_unread=True),
    "groups in no folder, unread, no @": ConvFilter(
        conv_type=2, group="", has_unread=True, has_at=False
    ),
}


def snapshot(i: int, rng: random.Random, activity: int) -> Conversation:
    conv_type = 1 + (i % 2)
    unread = rng.randrange(1, 20) if rng.random() < 0.3 else 0
    marks = (Mark.STAR if rng.random() < 0.1 else 0) | (1 << 40 if rng.random() < 0.05 else 0)
    r = rng.random()
    groups = ["work"] if r < 0.1 else ["family"] if r < 0.15 else []
    at = [AtInfo(seq=100, at_type=1)] if conv_type == 2 and unread and rng.random() < 0.1 else []
    last = Message(
        msg_id=f"m{i}",
        conv_type=conv_type,
        sender=f"peer{i}",
        receiver="me",
        elems=[{"elem_type": 0, "text_elem_content": "hello"}],
        seq=100,
        count=100,
        activity=activity,
    )
    return Conversation(
        conv_type=conv_type,
        conv_id=f"conv{i:06d}",
        read_seq=100 - unread,
        read_count=100 - unread,
        max_seq=100,
        count=100,
        activity=activity,
        pinned=rng.random() < 0.02,
        recv_opt=2 if rng.random() < 0.05 else 0,
        marks=marks,
        groups=groups,
        at_info=at,
        last_msg=last,
        pos=activity,
    )


def build(n: int, seed: int = 1) -> tuple[Client, float]:
    """A client holding ``n`` conversations, applied 100 at a time; seconds it took."""
    client = Client("ws://127.0.0.1:9/ws")
    client.user_id = "me"
    rng = random.Random(seed)
    snaps = [snapshot(i, rng, i + 1) for i in range(n)]
    t0 = time.perf_counter()
    for start in range(0, n, 100):
        client.conversations.apply(snaps[start : start + 100])
    return client, time.perf_counter() - t0


def timed(
    fn: Callable[[Any], object],
    runs: int = RUNS,
    setup: Callable[[], Any] = lambda: None,
) -> tuple[float, float]:
    """Median and max milliseconds of ``runs`` calls of ``fn(setup())`` (setup not timed)."""
    samples = []
    for _ in range(runs):
        arg = setup()
        t0 = time.perf_counter()
        fn(arg)
        samples.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(samples), 3), round(max(samples), 3)


def measure_pages(client: Client) -> dict[str, Any]:
    convs = client.conversations
    out: dict[str, Any] = {}
    for name, f in FILTERS.items():
        first = timed(lambda _, f=f: convs.page(f, 0, 100))
        page, next_seq, _ = convs.page(f, 0, 100)
        later = (
            timed(
                lambda seq, f=f: convs.page(f, seq, 100),
                setup=lambda f=f: convs.page(f, 0, 100)[1],
            )
            if next_seq
            else (0.0, 0.0)
        )

        def with_json(_: object, f: ConvFilter = f) -> bytes:
            items, _, _ = convs.page(f, 0, 100)
            return encode([conv_info(c, "me") for c in items])

        out[name] = {
            "returned": len(page),
            "first_page_ms": first,
            "later_page_ms": later,
            "first_page_with_json_ms": timed(with_json),
        }
    return out


def measure_totals(client: Client) -> dict[str, Any]:
    """First question (a walk of the shortest index list with unread) and a repeated one (the
    total is kept up to date from then on, as a subscribed one is)."""
    convs = client.conversations
    index = convs._index

    def forget(f: ConvFilter) -> None:
        index.subs.pop(f, None)

    out: dict[str, Any] = {}
    for name, f in FILTERS.items():
        first = timed(lambda _, f=f: convs.unread_total(f), setup=lambda f=f: forget(f))
        again = timed(lambda _, f=f: convs.unread_total(f))
        out[name] = {"first_ms": first, "again_ms": again}
    return out


def subscription_filters(count: int) -> list[ConvFilter]:
    """``count`` distinct filters mixing every facet."""
    shapes = [
        ConvFilter(conv_type=1),
        ConvFilter(conv_type=2),
        ConvFilter(group="work"),
        ConvFilter(group=""),
        ConvFilter(mark=Mark.STAR),
        ConvFilter(mark=0),
        ConvFilter(has_at=True),
        ConvFilter(conv_type=2, has_unread=True),
        ConvFilter(group="family", mark=1 << 40),
        ConvFilter(),
    ]
    variants = [(None, None), (True, None), (False, None), (None, False), (True, False)]
    out: list[ConvFilter] = []
    for unread, at in variants:
        for base in shapes:
            f = dataclasses.replace(
                base,
                has_unread=unread if unread is not None else base.has_unread,
                has_at=at if at is not None else base.has_at,
            )
            if f not in out:
                out.append(f)
    i = 0
    while len(out) < count:
        out.append(ConvFilter(group=f"folder{i}", has_unread=True))
        i += 1
    return out[:count]


def measure_change(client: Client, subs: int, n: int, seed: int) -> dict[str, Any]:
    """Microseconds to apply one conversation change (a new message) with ``subs`` filters
    subscribed; and how many subscription totals moved."""
    convs = client.conversations
    index = convs._index
    index.subs = {f: s for f, s in index.subs.items() if s.subscribed}  # no cached totals
    filters = subscription_filters(subs)
    for f in filters:
        convs.subscribe_unread(f)
    fired: list[int] = []
    remove = client.events.filter_unread.add(lambda f, total: fired.append(total))
    rng = random.Random(seed)  # the same seed for every run: the same changes
    base = n + 10
    keys = list(convs._convs)
    changes = []
    for j in range(CHANGES):
        old = convs._convs[keys[rng.randrange(len(keys))]]
        changes.append(
            msgspec.structs.replace(
                old,
                max_seq=old.max_seq + 1,
                count=old.count + 1,
                activity=base + j,
                pos=base + j,
            )
        )
    for snap in changes[:WARMUP]:
        convs.apply([snap])
    fired.clear()
    t0 = time.perf_counter()
    for snap in changes[WARMUP:]:
        convs.apply([snap])
    per_change_us = (time.perf_counter() - t0) / (CHANGES - WARMUP) * 1e6
    # The work itself, counted: filter evaluations per change (old and new snapshot, once per
    # subscription), whatever the number of conversations.
    original = Subscription.contribution
    evaluations = 0

    def counting(sub: Subscription, entry: Any) -> int:
        nonlocal evaluations
        evaluations += 1
        return original(sub, entry)

    Subscription.contribution = counting  # type: ignore[method-assign]
    try:
        for snap in changes[:WARMUP]:
            convs.apply([msgspec.structs.replace(snap, pos=snap.pos + CHANGES)])
    finally:
        Subscription.contribution = original  # type: ignore[method-assign]
    remove()
    for f in filters:
        convs.unsubscribe_unread(f)
    return {
        "subscribed": len(filters),
        "us_per_change": round(per_change_us, 2),
        "callbacks_per_change": round(len(fired) / (CHANGES - WARMUP), 2),
        "filter_evaluations_per_change": round(evaluations / WARMUP, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 only")
    parser.add_argument("--sizes", default="", help="comma-separated sizes")
    args = parser.parse_args()
    if args.sizes:
        sizes = [int(s) for s in args.sizes.split(",")]
    else:
        sizes = [1000, 10_000] if args.quick else [1000, 10_000, 100_000]
    summary: dict[str, Any] = {
        "bench": "conv_filters",
        "machine": machine(),
        "busy_cores_before": round(busy_cores(), 2),
        "sizes": {},
    }
    for n in sizes:
        client, build_s = build(n)
        print(f"== {n:,} conversations (built in {build_s:.2f} s)", flush=True)
        pages = measure_pages(client)
        for name, fig in pages.items():
            print(
                f"  page of 100, {name:<36} first {fig['first_page_ms'][0]:7.3f} ms "
                f"(max {fig['first_page_ms'][1]:.3f}), later {fig['later_page_ms'][0]:7.3f} ms, "
                f"with ConvInfo JSON {fig['first_page_with_json_ms'][0]:7.3f} ms "
                f"[{fig['returned']} returned]",
                flush=True,
            )
        totals = measure_totals(client)
        for name, fig in totals.items():
            print(
                f"  unread total, {name:<35} first {fig['first_ms'][0]:7.3f} ms "
                f"(max {fig['first_ms'][1]:.3f}), asked again {fig['again_ms'][0]:7.4f} ms",
                flush=True,
            )
        changes = [measure_change(client, 0, n, seed=7)]
        for subs in (10, 50):
            fresh, _ = build(n)  # the same list again, so each run applies the same changes
            changes.append(measure_change(fresh, subs, n, seed=7))
        base_us = changes[0]["us_per_change"]
        for fig in changes:
            extra = fig["us_per_change"] - base_us
            fig["us_for_subscriptions"] = round(extra, 2)
            fig["us_per_subscription"] = (
                round(extra / fig["subscribed"], 3) if fig["subscribed"] else 0.0
            )
            print(
                f"  one change with {fig['subscribed']:2d} subscribed filters: "
                f"{fig['us_per_change']:7.2f} us, of which subscriptions {extra:6.2f} us "
                f"({fig['us_per_subscription']} us each); "
                f"{fig['filter_evaluations_per_change']} filter evaluations and "
                f"{fig['callbacks_per_change']} callbacks per change",
                flush=True,
            )
        summary["sizes"][str(n)] = {
            "build_s": round(build_s, 2),
            "pages": pages,
            "totals_ms": totals,
            "changes": changes,
        }
    at_10k = summary["sizes"].get("10000")
    if at_10k is not None:
        worst_page = max(f["first_page_ms"][0] for f in at_10k["pages"].values())
        worst_total = max(t["first_ms"][0] for t in at_10k["totals_ms"].values())
        summary["targets"] = {
            "page_100_at_10k_ms": worst_page,
            "total_at_10k_ms": worst_total,
            "target_ms": TARGET_MS,
            "met": worst_page <= TARGET_MS and worst_total <= TARGET_MS,
        }
        print(
            f"targets at 10,000: worst filtered page {worst_page} ms, worst filtered total "
            f"{worst_total} ms (target {TARGET_MS} ms each)",
            flush=True,
        )
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
