"""User rules (protocol/rules/users.py): custom fields, status, receive windows, search."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from opentim.protocol import ErrorCode
from opentim.protocol.rules.users import (
    CUSTOM_PREFIX,
    DAY,
    MAX_CUSTOM_FIELDS,
    CustomFieldError,
    RecvWindow,
    SearchQuery,
    StatusType,
    daily_window,
    effective_recv_opt,
    merge_custom,
    next_edge,
    search_matches,
    status_changed,
    status_type,
    subscription_room,
    valid_custom_key,
    valid_time_of_day,
    window_active,
)

names = st.text(alphabet="abcdefghXYZ", min_size=1, max_size=8)
keys = names.map(lambda n: CUSTOM_PREFIX + n)
values = st.text(max_size=40)


@pytest.mark.parametrize(
    ("key", "ok"),
    [
        ("Tag_Profile_Custom_Hobby", True),
        ("Tag_Profile_Custom_abcdefgh", True),
        ("Tag_Profile_Custom_abcdefghi", False),
        ("Tag_Profile_Custom_", False),
        ("Tag_Profile_Custom_a1", False),
        ("Tag_Profile_Custom_é", False),
        ("Tag_Profile_IM_Nick", False),
        ("Hobby", False),
    ],
)
def test_custom_keys(key: str, ok: bool) -> None:
    assert valid_custom_key(key) is ok


def test_merge_refuses_bad_key_long_value_and_too_many() -> None:
    with pytest.raises(CustomFieldError) as bad:
        merge_custom({}, {"Tag_Profile_Custom_1": "x"})
    assert bad.value.code == ErrorCode.ERR_SVR_PROFILE_TAG_NOT_FOUND
    with pytest.raises(CustomFieldError) as long:
        merge_custom({}, {CUSTOM_PREFIX + "a": "é" * 251})
    assert long.value.code == ErrorCode.ERR_SVR_PROFILE_SIZE_LIMIT
    full = {CUSTOM_PREFIX + chr(ord("a") + i) * 2: "v" for i in range(MAX_CUSTOM_FIELDS)}
    assert merge_custom(full, {}) == dict(sorted(full.items()))
    with pytest.raises(CustomFieldError) as many:
        merge_custom(full, {CUSTOM_PREFIX + "zzzz": "v"})
    assert many.value.code == ErrorCode.ERR_SVR_PROFILE_SIZE_LIMIT
    # Removing one makes room in the same change.
    first = next(iter(full))
    assert CUSTOM_PREFIX + "zzzz" in merge_custom(full, {first: "", CUSTOM_PREFIX + "zzzz": "v"})


@given(st.dictionaries(keys, values, max_size=8), st.dictionaries(keys, values, max_size=8))
def test_merge_is_the_last_write_per_key_without_empties(
    stored: dict[str, str], changes: dict[str, str]
) -> None:
    stored = {k: v for k, v in stored.items() if v}
    merged = merge_custom(stored, changes)
    for key in set(stored) | set(changes):
        expected = changes.get(key, stored.get(key, ""))
        assert merged.get(key, "") == expected
    assert "" not in merged.values()
    assert list(merged) == sorted(merged)
    assert merge_custom(merged, changes) == merged  # applying it again changes nothing


def test_status_types() -> None:
    assert status_type(2, False) == StatusType.ONLINE
    assert status_type(1, True) == StatusType.ONLINE
    assert status_type(0, True) == StatusType.OFFLINE
    assert status_type(0, False) == StatusType.UNLOGINED


@given(st.integers(0, 3), st.booleans(), st.integers(0, 3), st.booleans())
def test_status_changes_exactly_when_type_or_devices_do(
    n1: int, d1: bool, n2: int, d2: bool
) -> None:
    changed = status_changed((n1, d1), (n2, d2))
    assert changed == (status_type(n1, d1) != status_type(n2, d2) or n1 != n2)


def test_one_time_window() -> None:
    w = RecvWindow(opt=2, start=1000, duration=100)
    assert [window_active(w, t) for t in (999, 1000, 1099, 1100)] == [False, True, True, False]
    assert window_active(RecvWindow(opt=2, start=1000), 10**12)
    assert not window_active(RecvWindow(opt=0, start=0), 5)


def test_daily_window_crossing_midnight() -> None:
    w = daily_window(2, 23, 0, 0, 2 * 3600)  # 23:00 to 01:00 UTC
    midnight = 20_000 * DAY
    assert window_active(w, midnight + 23 * 3600)
    assert window_active(w, midnight + 30 * 60)
    assert not window_active(w, midnight + 3600)
    assert not window_active(w, midnight + 12 * 3600)
    assert window_active(daily_window(2, 5, 0, 0, DAY), midnight + 1)


@given(
    st.integers(0, 23),
    st.integers(0, 59),
    st.integers(0, 59),
    st.integers(1, DAY - 1),
    st.integers(0, 2**32),
)
def test_daily_window_repeats_every_day_and_lasts_its_duration(
    h: int, m: int, s: int, duration: int, now: int
) -> None:
    assert valid_time_of_day(h, m, s)
    w = daily_window(2, h, m, s, duration)
    assert window_active(w, now) == window_active(w, now + DAY)
    start_today = now - (now - w.start) % DAY
    assert window_active(w, start_today)
    assert window_active(w, start_today + duration - 1)
    assert not window_active(w, start_today + duration)


@given(st.integers(0, 4), st.integers(0, 4), st.integers(0, 2**33))
def test_a_conversation_option_wins_over_the_all_messages_one(
    conv_opt: int, all_opt: int, now: int
) -> None:
    w = RecvWindow(opt=all_opt, start=0)
    got = effective_recv_opt(conv_opt, w, now)
    assert got == (conv_opt or all_opt)


def test_valid_time_of_day_bounds() -> None:
    assert not valid_time_of_day(24, 0, 0)
    assert not valid_time_of_day(0, 60, 0)
    assert not valid_time_of_day(-1, 0, 0)


def test_search_filters() -> None:
    assert search_matches(SearchQuery(), "x", "", 0, 0)
    assert search_matches(SearchQuery(keywords=("AN",)), "u1", "Joanna", 0, 0)
    assert search_matches(SearchQuery(keywords=("bob", "u1")), "u1", "Joanna", 0, 0)
    assert not search_matches(SearchQuery(keywords=("bob", "u1"), match_all=True), "u1", "Jo", 0, 0)
    assert not search_matches(SearchQuery(gender=1), "u", "", 2, 0)
    assert search_matches(SearchQuery(min_birthday=19900101), "u", "", 0, 19900101)
    assert not search_matches(SearchQuery(max_birthday=19900101), "u", "", 0, 19900102)


@given(st.lists(st.text(max_size=3), max_size=4), st.text(max_size=6), st.text(max_size=6))
def test_all_keywords_matching_implies_any_does(words: list[str], uid: str, nick: str) -> None:
    any_q = SearchQuery(keywords=tuple(words))
    all_q = SearchQuery(keywords=tuple(words), match_all=True)
    if search_matches(all_q, uid, nick, 0, 0):
        assert search_matches(any_q, uid, nick, 0, 0)


def test_subscription_room_counts_distinct_users() -> None:
    assert subscription_room(["a", "b"], ["b", "c"], 3)
    assert not subscription_room(["a", "b"], ["c", "d"], 3)


windows = st.builds(
    RecvWindow,
    opt=st.integers(0, 4),
    start=st.integers(0, 2**32 - 1),
    duration=st.integers(0, 3 * DAY),
    daily=st.booleans(),
).map(lambda w: w._replace(start=w.start % DAY) if w.daily else w)


@given(windows, st.integers(0, 2**33))
def test_the_next_edge_is_where_the_window_first_opens_or_closes(w: RecvWindow, now: int) -> None:
    edge = next_edge(w, now)
    active = window_active(w, now)
    if edge is None:
        for later in (now + 1, now + DAY // 2, now + DAY, now + 10 * DAY):
            assert window_active(w, later) == active
        return
    assert edge > now
    assert window_active(w, edge - 1) == active
    assert window_active(w, edge) != active
    if edge - now > 2:
        assert window_active(w, (now + edge) // 2) == active
