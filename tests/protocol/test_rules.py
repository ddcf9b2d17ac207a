"""The conversation and message rules (protocol.rules) without a database: each rule on its
own, then property tests that drive a channel and two users' rows through random sends and
changes and check the invariants after every step."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given, settings, strategies as st

from opentim.protocol import Draft, Mark
from opentim.protocol.rules import (
    ConvChange,
    ConvState,
    append_position,
    apply_change,
    created_state,
    draft_edit_wins,
    is_tombstone,
    read_position,
    unread,
    visible_marks,
)

HIDE = int(Mark.HIDE)


# --- each rule ------------------------------------------------------------------------------
def test_a_message_takes_the_next_seq_and_counts_only_when_countable() -> None:
    assert append_position(4, 3, 4, countable=True, shows_last=True) == (5, 4, 5)
    assert append_position(4, 3, 4, countable=False, shows_last=True) == (5, 3, 5), "a tip"
    assert append_position(4, 3, 4, countable=True, shows_last=False) == (5, 4, 4)


def test_unread_is_never_negative() -> None:
    assert unread(7, 3) == 4
    assert unread(3, 7) == 0


def test_a_tombstone_is_a_deleted_conversation_with_nothing_new() -> None:
    assert is_tombstone(True, 5, 5)
    assert not is_tombstone(True, 5, 6), "a message after the deletion brings it back"
    assert not is_tombstone(False, 5, 5)


def test_the_hide_mark_holds_until_a_message_comes_after_it() -> None:
    assert visible_marks(HIDE | 1, 5, 5) == HIDE | 1
    assert visible_marks(HIDE | 1, 5, 6) == 1
    assert visible_marks(1, 0, 9) == 1


def test_create_reads_up_to_now_and_ensure_makes_a_hidden_row() -> None:
    made = created_state(ConvChange(create=True), 9, 7, clock=40)
    assert (made.read_seq, made.read_count, made.bump, made.deleted) == (9, 7, 40, False)
    hidden = created_state(ConvChange(recv_opt=2, ensure=True), 9, 7, clock=41)
    assert hidden.deleted
    assert is_tombstone(hidden.deleted, hidden.deleted_up_to, 9)
    assert (hidden.cleared_up_to, hidden.bump) == (9, 0)


def test_a_change_refuses_a_tombstone_unless_it_creates() -> None:
    gone = ConvState(deleted=True, deleted_up_to=5)
    assert apply_change(gone, ConvChange(pinned=True), 5, clock=10) is None
    assert read_position(gone, ConvChange(read_up_to=0), 5) is None
    back = apply_change(gone, ConvChange(create=True), 5, clock=10)
    assert back is not None
    assert (back.deleted, back.bump, back.changed) == (False, 10, 10)


def test_a_bare_create_of_a_live_conversation_writes_nothing() -> None:
    live = ConvState(read_seq=3, read_count=3)
    assert apply_change(live, ConvChange(create=True), 5, clock=10) is live


def test_pinning_and_a_draft_bump_but_unpinning_and_cancelling_do_not() -> None:
    before = ConvState(bump=1)
    assert apply_change(before, ConvChange(pinned=True), 5, clock=10).bump == 10  # type: ignore[union-attr]
    assert apply_change(before, ConvChange(pinned=False), 5, clock=10).bump == 1  # type: ignore[union-attr]
    drafted = apply_change(before, ConvChange(draft=Draft(), draft_time=3), 5, clock=11)
    assert drafted is not None
    assert (drafted.bump, drafted.draft_time) == (11, 3)
    cancelled = apply_change(drafted, ConvChange(clear_draft=True, draft_time=4), 5, clock=12)
    assert cancelled is not None
    assert (cancelled.draft, cancelled.bump, cancelled.draft_time) == (None, 11, 4)


def test_an_earlier_draft_edit_loses_and_writes_nothing() -> None:
    stored = ConvState(draft=Draft(user_define="new"), draft_time=20)
    assert apply_change(stored, ConvChange(draft=Draft(), draft_time=19), 5, clock=30) is stored
    assert draft_edit_wins(20, 20), "a tie goes to the later arrival"
    assert not draft_edit_wins(19, 20)


def test_a_lost_draft_still_applies_the_rest_of_the_change() -> None:
    stored = ConvState(draft_time=20)
    after = apply_change(stored, ConvChange(draft=Draft(), draft_time=19, pinned=True), 5, clock=30)
    assert after is not None
    assert (after.pinned, after.draft, after.draft_time) == (True, None, 20)


def test_reading_stops_at_the_top_the_user_sees_and_never_goes_back() -> None:
    state = ConvState(read_seq=4, read_count=4)
    assert read_position(state, ConvChange(read_up_to=0), 9) == 9
    assert read_position(state, ConvChange(read_up_to=99), 9) == 9
    assert read_position(state, ConvChange(read_up_to=2), 9) == 2
    assert read_position(state, ConvChange(pinned=True), 9) is None
    back = apply_change(state, ConvChange(read_up_to=2), 9, clock=5, read_count=2)
    assert back is not None
    assert (back.read_seq, back.read_count) == (4, 4)
    left = ConvState(end_seq=6)
    assert read_position(left, ConvChange(read_up_to=0), 9) == 6, "where the user left"


def test_delete_reads_hides_history_and_leaves_the_groups() -> None:
    state = ConvState(pinned=True, draft=Draft(), groups=["work"], cleared_up_to=1)
    gone = apply_change(state, ConvChange(delete=True), 9, clock=5, read_count=8)
    assert gone is not None
    assert (gone.deleted, gone.deleted_up_to, gone.cleared_up_to) == (True, 9, 9)
    assert (gone.read_seq, gone.read_count, gone.pinned, gone.draft, gone.groups) == (
        9,
        8,
        False,
        None,
        [],
    )
    assert state.groups == ["work"], "the row before is not changed"
    kept = apply_change(state, ConvChange(delete=True, keep_history=True), 9, clock=5)
    assert kept is not None
    assert kept.cleared_up_to == 1, "keep_history: the messages stay readable"
    cleared = apply_change(state, ConvChange(clear_history=True), 9, clock=5, read_count=8)
    assert cleared is not None
    assert (cleared.deleted, cleared.cleared_up_to, cleared.read_seq) == (False, 9, 9)


def test_setting_hide_records_the_top_and_a_stale_hide_is_dropped_first() -> None:
    state = ConvState(marks=HIDE, hide_seq=3)
    starred = apply_change(state, ConvChange(mark_set=1), 5, clock=9)
    assert starred is not None
    assert starred.marks == 1, "a message came after hiding: Hide no longer holds"
    hidden = apply_change(ConvState(), ConvChange(mark_set=HIDE), 5, clock=9)
    assert hidden is not None
    assert (hidden.marks, hidden.hide_seq) == (HIDE, 5)


# --- invariants -----------------------------------------------------------------------------
@dataclass
class Channel:
    """A C2C channel and its two users' rows, driven by the rules alone."""

    max_seq: int = 0
    count: int = 0
    last_seq: int = 0
    counts: dict[int, int] = field(default_factory=dict)
    rows: dict[str, ConvState | None] = field(default_factory=lambda: {"a": None, "b": None})
    clock: int = 0

    def tick(self) -> int:
        self.clock += 1
        return self.clock

    def send(self, sender: str, countable: bool) -> None:
        pos = append_position(
            self.max_seq, self.count, self.last_seq, countable=countable, shows_last=True
        )
        self.max_seq, self.count, self.last_seq = pos
        self.counts[pos.seq] = pos.counted
        for user in self.rows:
            if self.rows[user] is None:
                self.rows[user] = ConvState(changed=self.clock)
        sent = self.rows[sender]
        assert sent is not None
        sent.read_seq, sent.read_count = pos.seq, pos.counted  # the store's sender read

    def change(self, user: str, change: ConvChange) -> ConvState | None:
        state = self.rows[user]
        if state is None:
            if not (change.create or change.ensure):
                return None
            state = self.rows[user] = created_state(change, self.max_seq, self.count, self.tick())
            if change.only_creates:
                return state
        seq = read_position(state, change, self.max_seq)
        count = self.counts.get(seq, 0) if seq is not None else 0
        after = apply_change(state, change, self.max_seq, self.tick(), count)
        if after is not None:
            self.rows[user] = after
        return after


changes = st.builds(
    ConvChange,
    pinned=st.none() | st.booleans(),
    read_up_to=st.none() | st.integers(0, 40),
    delete=st.booleans(),
    create=st.booleans(),
    keep_history=st.booleans(),
    clear_history=st.booleans(),
    mark_set=st.sampled_from([0, 1, HIDE]),
    mark_clear=st.sampled_from([0, 1, HIDE]),
    ensure=st.booleans(),
)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("send"), st.sampled_from("ab"), st.booleans()),
        st.tuples(st.just("change"), st.sampled_from("ab"), changes),
    ),
    max_size=40,
)


@settings(max_examples=300)
@given(steps)
def test_read_positions_never_go_back_and_unread_is_never_negative(ops: list[tuple]) -> None:  # type: ignore[type-arg]
    ch = Channel()
    for op, user, arg in ops:
        before = {u: (s.read_seq, s.read_count) if s else (0, 0) for u, s in ch.rows.items()}
        if op == "send":
            ch.send(user, arg)
            assert ch.count - ch.rows[user].read_count == 0, "one's own message is never unread"  # type: ignore[union-attr]
        else:
            ch.change(user, arg)
        for u, state in ch.rows.items():
            if state is None:
                continue
            assert (state.read_seq, state.read_count) >= before[u], "read never goes back"
            assert state.read_seq <= ch.max_seq
            assert ch.count - state.read_count >= 0, "unread is never negative"


@settings(max_examples=300)
@given(steps, changes)
def test_a_tombstone_never_resurrects_without_create(ops: list[tuple], last: ConvChange) -> None:  # type: ignore[type-arg]
    ch = Channel()
    for op, user, arg in ops:
        if op == "send":
            ch.send(user, arg)
        else:
            ch.change(user, arg)
    ch.change("a", ConvChange(delete=True, create=True))
    state = ch.rows["a"]
    assert state is not None
    assert is_tombstone(state.deleted, state.deleted_up_to, ch.max_seq)
    after = ch.change("a", last)
    if not (last.create or last.ensure):
        assert after is None
        assert ch.rows["a"] is state, "the row is left as it was"
    ch.send("b", True)
    back = ch.rows["a"]
    assert back is not None
    assert not is_tombstone(back.deleted, back.deleted_up_to, ch.max_seq), "a message shows it"


@settings(max_examples=300)
@given(st.lists(st.tuples(st.integers(0, 50), st.booleans()), min_size=1, max_size=20))
def test_the_later_draft_wins(edits: list[tuple[int, bool]]) -> None:
    """Edits arrive in list order, each a set (True) or a cancel, stamped; the stored draft
    is the last edit among those with the highest stamp."""
    state: ConvState | None = ConvState()
    for i, (stamp, sets) in enumerate(edits):
        draft = Draft(user_define=str(i)) if sets else None
        change = ConvChange(draft=draft, clear_draft=not sets, draft_time=stamp)
        assert state is not None
        state = apply_change(state, change, 0, clock=i + 1)
    top = max(stamp for stamp, _ in edits)
    winner = max(i for i, (stamp, _) in enumerate(edits) if stamp == top)
    assert state is not None
    assert state.draft_time == top
    expected = Draft(user_define=str(winner)) if edits[winner][1] else None
    assert state.draft == expected


@settings(max_examples=200)
@given(st.integers(0, 30), st.integers(0, 5), st.sampled_from([0, 1, 2]))
def test_hide_resets_when_a_message_arrives_after_it(top: int, later: int, other: int) -> None:
    hidden = apply_change(ConvState(marks=other), ConvChange(mark_set=HIDE), top, clock=1)
    assert hidden is not None
    assert visible_marks(hidden.marks, hidden.hide_seq, top) & HIDE
    shown = visible_marks(hidden.marks, hidden.hide_seq, top + 1 + later)
    assert not shown & HIDE
    assert shown == other, "the other marks stay"
