"""Friendship rules as pure functions: what adding a friend does under the target's add
permission, the relation between two users, follow types, and friend search.

The store reads the facts (who has whom, who blocked whom, the target's profile), these rules
decide, and the service writes what they say. Codes are Tencent's (TIMErrorCode.h, 30xxx).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from ..codes import ErrorCode


class AddPermission(IntEnum):
    """A user's ``user_profile_add_permission`` (TIMProfileAddPermission)."""

    UNKNOWN = 0
    ALLOW_ANY = 1
    NEED_CONFIRM = 2
    DENY_ANY = 3


class FriendType(IntEnum):
    """One-way (only my list changes) or both ways (TIMFriendType)."""

    SINGLE = 0
    BOTH = 1


class Relation(IntEnum):
    """How two users' friend lists hold each other (TIMFriendCheckRelation and
    TIMFriendshipRelationType share these values)."""

    NONE = 0
    A_WITH_B = 1
    """B is in A's list (A being the asking user)."""
    B_WITH_A = 2
    """A is in B's list."""
    BOTH = 3


class FollowType(IntEnum):
    """TIMFollowType: whether I follow them, they follow me, or both."""

    NONE = 0
    FOLLOWING = 1
    FOLLOWER = 2
    BOTH = 3


class ResponseAction(IntEnum):
    """TIMFriendResponseAction: answering an application."""

    AGREE = 0
    """The applicant gets me as a friend (one way)."""
    AGREE_AND_ADD = 1
    """And I get the applicant too (both ways)."""
    REJECT = 2


class PendencyType(IntEnum):
    """TIMFriendPendencyType: applications to me, from me, or both."""

    COME_IN = 0
    SEND_OUT = 1
    BOTH = 2


class SearchField(IntEnum):
    """TIMFriendshipSearchFieldKey bits."""

    IDENTIFIER = 1
    NICK = 2
    REMARK = 4


class AddOutcome(IntEnum):
    ADDED = 0
    """The friendship is made now."""
    PENDING = 1
    """An application waits for the target's answer."""
    REFUSED = 2


@dataclass(frozen=True, slots=True)
class AddFacts:
    """What the store knows about ``me`` adding ``target``."""

    is_self: bool = False
    target_exists: bool = True
    already_friend: bool = False
    """``target`` is already in my list."""
    target_has_me: bool = False
    """I am already in ``target``'s list (then no confirmation is needed)."""
    i_blocked_target: bool = False
    target_blocked_me: bool = False
    permission: int = AddPermission.UNKNOWN


def add_decision(facts: AddFacts) -> tuple[AddOutcome, int]:
    """What adding a friend does, and the per-user code the caller gets (0, or Tencent's).

    An application waiting for confirmation is reported with 30539, as Tencent does; the
    target's unset permission counts as "need confirm", Tencent's default.
    """
    if facts.is_self:
        return AddOutcome.REFUSED, ErrorCode.ERR_SVR_FRIENDSHIP_INVALID_PARAMETERS
    if not facts.target_exists:
        return AddOutcome.REFUSED, ErrorCode.ERR_SVR_FRIENDSHIP_ACCOUNT_NOT_FOUND
    if facts.already_friend:
        return AddOutcome.REFUSED, ErrorCode.ERR_SVR_FRIENDSHIP_ALREADY_FRIENDS
    if facts.i_blocked_target:
        return AddOutcome.REFUSED, ErrorCode.ERR_SVR_FRIENDSHIP_IN_SELF_BLACKLIST
    if facts.target_blocked_me:
        return AddOutcome.REFUSED, ErrorCode.ERR_SVR_FRIENDSHIP_IN_PEER_BLACKLIST
    if facts.target_has_me or facts.permission == AddPermission.ALLOW_ANY:
        return AddOutcome.ADDED, 0
    if facts.permission == AddPermission.DENY_ANY:
        return AddOutcome.REFUSED, ErrorCode.ERR_SVR_FRIENDSHIP_ALLOW_TYPE_DENY_ANY
    return AddOutcome.PENDING, ErrorCode.ERR_SVR_FRIENDSHIP_ALLOW_TYPE_NEED_CONFIRM


def relation(a_has_b: bool, b_has_a: bool) -> Relation:
    """The relation seen from A."""
    return Relation((1 if a_has_b else 0) | (2 if b_has_a else 0))


def checked_relation(check_type: int, a_has_b: bool, b_has_a: bool) -> Relation:
    """What a friend check of ``check_type`` reports: a one-way check only looks at A's list."""
    if check_type == FriendType.SINGLE:
        return Relation.A_WITH_B if a_has_b else Relation.NONE
    return relation(a_has_b, b_has_a)


def follow_type(i_follow: bool, follows_me: bool) -> FollowType:
    return FollowType((1 if i_follow else 0) | (2 if follows_me else 0))


def is_mutual(i_follow: bool, follows_me: bool) -> bool:
    return follow_type(i_follow, follows_me) == FollowType.BOTH


def answer_adds(action: int) -> tuple[bool, bool]:
    """Whom an answer to an application befriends: (the applicant gets me, I get the applicant)."""
    if action == ResponseAction.AGREE:
        return True, False
    if action == ResponseAction.AGREE_AND_ADD:
        return True, True
    return False, False


def friend_matches(keywords: list[str], fields: int, user_id: str, nick: str, remark: str) -> bool:
    """Whether a friend matches a search: any keyword found (case-insensitively) in any of the
    chosen fields (no field chosen = the id)."""
    chosen = fields or SearchField.IDENTIFIER
    haystacks = [
        text.casefold()
        for bit, text in (
            (SearchField.IDENTIFIER, user_id),
            (SearchField.NICK, nick),
            (SearchField.REMARK, remark),
        )
        if chosen & bit
    ]
    return any(word.casefold() in text for word in keywords if word for text in haystacks)


def unread_applications(add_times: list[int], read_time: int) -> int:
    """Applications to me made after I last reported the list read."""
    return sum(1 for t in add_times if t > read_time)
