"""The draft rule (protocol.drafts): the later stamp wins, ties go to the later arrival, and
the server never keeps a stamp later than its own clock."""

from __future__ import annotations

from hypothesis import given, strategies as st

from opentim.protocol.drafts import UINT32_MAX, draft_stamp, now_stamp
from opentim.protocol.rules import draft_edit_wins

NOW = 1_700_000_000


def test_the_later_stamp_wins_and_a_tie_goes_to_the_later_arrival() -> None:
    assert draft_edit_wins(11, 10)
    assert not draft_edit_wins(9, 10)
    assert draft_edit_wins(10, 10), "a tie: the edit arriving now is the later arrival"
    assert draft_edit_wins(NOW, 0), "nothing stored yet"


def test_a_stamp_is_seconds_no_later_than_the_servers_clock() -> None:
    assert draft_stamp(NOW - 5, NOW) == NOW - 5
    assert draft_stamp(0, NOW) == NOW, "no stamp: now"
    assert draft_stamp(-3, NOW) == NOW
    for app_value in (NOW * 1000, 638_357_568_001_234_567, NOW + 3600):
        assert draft_stamp(app_value, NOW) == NOW, app_value
    assert 0 < now_stamp() <= UINT32_MAX


Edit = tuple[int, int]
"""``(device, stamp)`` of one edit, in the order the server gets them."""


def settle(edits: list[Edit]) -> tuple[int, int] | None:
    """What the server holds after ``edits`` arrive in order, through the rule."""
    held: tuple[int, int] | None = None
    for i, (_, stamp) in enumerate(edits):
        if held is None or draft_edit_wins(stamp, held[1]):
            held = (i, stamp)
    return held


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 50)), min_size=1, max_size=30))
def test_the_edit_kept_is_the_latest_stamp_and_among_those_the_last_to_arrive(
    edits: list[Edit],
) -> None:
    held = settle(edits)
    assert held is not None
    latest = max(stamp for _, stamp in edits)
    last_of_latest = max(i for i, (_, stamp) in enumerate(edits) if stamp == latest)
    assert held == (last_of_latest, latest)


@given(
    st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=20),
    st.integers(1, UINT32_MAX),
)
def test_whatever_a_device_sends_the_stamp_kept_fits_uint32_and_a_later_edit_still_wins(
    sent: list[int], now: int
) -> None:
    stamps = [draft_stamp(s, now) for s in sent]
    assert all(0 < s <= now <= UINT32_MAX for s in stamps)
    held = max(stamps)
    assert draft_edit_wins(draft_stamp(now, now), held), "an edit made now is never blocked"
