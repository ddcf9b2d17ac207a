"""Conversation rules: what one change does to one user's conversation row.

The store reads the row (``ConvState``) and the channel's head, asks ``read_position`` where a
read would stop (to look up the message count there), calls ``apply_change`` and writes the
columns that differ. The rules, each in one place:

- **Tombstones** (``is_tombstone``): a deleted conversation with nothing new since is gone; a
  change refuses it, and only creating (or ``ensure``) brings it back.
- **The later draft wins** (``draft_edit_wins``): an edit replaces the stored one unless its
  stamp is earlier.
- **The Hide reset** (``visible_marks``): a message after hiding shows the conversation again.
- **Read arithmetic**: ``read_seq``/``read_count`` never go back; a read stops at the channel's
  top (or where the user left the group); delete and clear_history read up to the same place.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ..models import Draft, Mark


@dataclass(slots=True)
class ConvChange:
    """One change to one user's conversation; fields left None are not touched."""

    pinned: bool | None = None
    draft: Draft | None = None
    clear_draft: bool = False
    draft_time: int = 0
    """The edit's stamp (UTC seconds, ``protocol.drafts.draft_stamp``); the store keeps the
    draft of the edit ``draft_edit_wins`` picks."""
    read_up_to: int | None = None
    """Read up to this seq (0 = the newest)."""
    delete: bool = False
    create: bool = False
    keep_history: bool = False
    """With ``delete``: the messages stay readable (TIMConvDeleteConversationList, clear false)."""
    clear_history: bool = False
    """Hide the history so far for this user and read it, keeping the conversation."""
    mark_set: int = 0
    mark_clear: int = 0
    custom_data: str | None = None
    recv_opt: int | None = None
    ensure: bool = False
    """Create the row hidden when the user has none (a receive option set before any message)."""

    @property
    def only_creates(self) -> bool:
        """Creating is all it does (``TIMConvCreate``), not creating then changing."""
        return self == ConvChange(create=True)

    @property
    def only_drafts(self) -> bool:
        """Setting or cancelling the draft is all it does (possibly creating first)."""
        return self == ConvChange(
            draft=self.draft,
            clear_draft=self.clear_draft,
            draft_time=self.draft_time,
            create=self.create,
        )

    @property
    def reads(self) -> bool:
        """It moves the read position (a read, a delete, clearing the history)."""
        return self.read_up_to is not None or self.delete or self.clear_history


@dataclass(slots=True)
class ConvState:
    """The columns of one user's conversation row that the rules read or write."""

    read_seq: int = 0
    read_count: int = 0
    pinned: bool = False
    draft: Draft | None = None
    draft_time: int = 0
    bump: int = 0
    """Clock of the last event that moves the conversation up the list (create, pin, draft)."""
    deleted: bool = False
    deleted_up_to: int = 0
    cleared_up_to: int = 0
    """History at or below this seq is hidden from the user."""
    end_seq: int | None = None
    """Where the user left the group (None: still in it, or a C2C conversation)."""
    marks: int = 0
    hide_seq: int = 0
    """The top when the Hide mark was set: a message after it shows the conversation again."""
    custom_data: str = ""
    recv_opt: int = 0
    groups: list[str] = field(default_factory=list)
    """The conversation groups (folders) it is in."""
    changed: int = 0
    """Clock of its last change (its sync position)."""


def draft_edit_wins(stamp: int, stored: int) -> bool:
    """Whether an edit stamped ``stamp`` replaces the stored edit stamped ``stored``, the new
    edit arriving after the stored one: the later stamp wins, and a tie goes to the later
    arrival (so one device's set-then-cancel within a second ends cancelled)."""
    return stamp >= stored


def is_tombstone(deleted: bool, deleted_up_to: int, max_seq: int) -> bool:
    """A deleted conversation whose channel has nothing after the deletion (``max_seq`` is the
    channel's newest seq): it stays gone; a new message brings it back by itself."""
    return deleted and max_seq <= deleted_up_to


def visible_marks(marks: int, hide_seq: int, top: int) -> int:
    """The marks as they stand at ``top``: Hide is reset once a message came after hiding."""
    if marks & Mark.HIDE and top > hide_seq:
        return marks & ~Mark.HIDE
    return marks


def top_of(state: ConvState, max_seq: int) -> int:
    """The newest seq the user sees: the channel's, or where they left the group."""
    return max_seq if state.end_seq is None else state.end_seq


def created_state(change: ConvChange, max_seq: int, count: int, clock: int) -> ConvState:
    """The row a user gets on ``create`` (read up to now, moved up the list) or ``ensure``
    (hidden until a message comes: the row only carries settings, a receive option), in a
    channel whose head is ``(max_seq, count)``."""
    if change.create:
        return ConvState(read_seq=max_seq, read_count=count, bump=clock, changed=clock)
    return ConvState(
        read_seq=max_seq,
        read_count=count,
        deleted=True,
        deleted_up_to=max_seq,
        cleared_up_to=max_seq,
        changed=clock,
    )


def refuses(state: ConvState, change: ConvChange, max_seq: int) -> bool:
    """The conversation is a tombstone and the change does not bring it back."""
    tombstone = is_tombstone(state.deleted, state.deleted_up_to, max_seq)
    return tombstone and not (change.create or change.ensure)


def read_position(state: ConvState, change: ConvChange, max_seq: int) -> int | None:
    """The seq a read (or delete, or clear_history) stops at, None when the change reads
    nothing: ``read_up_to`` (0 for the newest) capped at the top the user sees."""
    if not change.reads or refuses(state, change, max_seq):
        return None
    top = top_of(state, max_seq)
    return top if not change.read_up_to else min(change.read_up_to, top)


def apply_change(
    state: ConvState, change: ConvChange, max_seq: int, clock: int, read_count: int = 0
) -> ConvState | None:
    """The row after ``change``, in a channel whose newest seq is ``max_seq``, at ``clock``.

    ``read_count`` is the count of the message at ``read_position`` (0 when none). Returns None
    when the change refuses the conversation (a tombstone), and ``state`` itself when there is
    nothing to write (a bare create of an existing conversation, a draft edit that lost).
    """
    if refuses(state, change, max_seq):
        return None
    tombstone = is_tombstone(state.deleted, state.deleted_up_to, max_seq)
    new = dataclasses.replace(state, groups=list(state.groups), changed=clock)
    if change.create and tombstone:
        # Re-creating a deleted conversation shows it again (empty) and bumps it.
        new.deleted = False
        new.bump = clock
    elif change.create and change.only_creates:
        return state
    if change.pinned is not None:
        new.pinned = change.pinned
        if change.pinned:
            new.bump = clock
    drafting = change.draft is not None or change.clear_draft
    if drafting and not draft_edit_wins(change.draft_time, state.draft_time):
        drafting = False  # a later edit is already stored: this one lost
        if change.only_drafts and not (change.create and tombstone):
            return state
    if drafting:
        new.draft = change.draft
        new.draft_time = change.draft_time
        if change.draft is not None:
            new.bump = clock
    if change.custom_data is not None:
        new.custom_data = change.custom_data
    if change.recv_opt is not None:
        new.recv_opt = change.recv_opt
    top = top_of(state, max_seq)
    if change.mark_set or change.mark_clear:
        marks = visible_marks(state.marks, state.hide_seq, top)
        new.marks = (marks | change.mark_set) & ~change.mark_clear
        if change.mark_set & Mark.HIDE:
            new.hide_seq = top
    seq = read_position(state, change, max_seq)
    if seq is not None:
        new.read_seq = max(state.read_seq, seq)
        new.read_count = max(state.read_count, read_count)
        if change.delete:
            new.deleted = True
            new.deleted_up_to = seq
            new.draft = None
            new.pinned = False
            new.groups = []
        if (change.delete and not change.keep_history) or change.clear_history:
            new.cleared_up_to = max(state.cleared_up_to, seq)
    return new
