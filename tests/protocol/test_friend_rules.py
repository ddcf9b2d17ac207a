"""The friendship rules: add permission → outcome, relations, follow types, search."""

from __future__ import annotations

from hypothesis import given, strategies as st

from opentim.protocol import ErrorCode
from opentim.protocol.rules.friends import (
    AddFacts,
    AddOutcome,
    AddPermission,
    FollowType,
    FriendType,
    Relation,
    ResponseAction,
    SearchField,
    add_decision,
    answer_adds,
    checked_relation,
    follow_type,
    friend_matches,
    is_mutual,
    relation,
    unread_applications,
)

facts = st.builds(
    AddFacts,
    is_self=st.booleans(),
    target_exists=st.booleans(),
    already_friend=st.booleans(),
    target_has_me=st.booleans(),
    i_blocked_target=st.booleans(),
    target_blocked_me=st.booleans(),
    permission=st.sampled_from(list(AddPermission)),
)


def test_permissions() -> None:
    assert add_decision(AddFacts(permission=AddPermission.ALLOW_ANY)) == (AddOutcome.ADDED, 0)
    assert add_decision(AddFacts(permission=AddPermission.NEED_CONFIRM)) == (
        AddOutcome.PENDING,
        ErrorCode.ERR_SVR_FRIENDSHIP_ALLOW_TYPE_NEED_CONFIRM,
    )
    assert add_decision(AddFacts(permission=AddPermission.UNKNOWN))[0] == AddOutcome.PENDING
    assert add_decision(AddFacts(permission=AddPermission.DENY_ANY)) == (
        AddOutcome.REFUSED,
        ErrorCode.ERR_SVR_FRIENDSHIP_ALLOW_TYPE_DENY_ANY,
    )
    mutual = AddFacts(permission=AddPermission.NEED_CONFIRM, target_has_me=True)
    assert add_decision(mutual) == (AddOutcome.ADDED, 0)


def test_refusals_in_order() -> None:
    assert add_decision(AddFacts(is_self=True, target_exists=False))[1] == (
        ErrorCode.ERR_SVR_FRIENDSHIP_INVALID_PARAMETERS
    )
    assert add_decision(AddFacts(target_exists=False))[1] == (
        ErrorCode.ERR_SVR_FRIENDSHIP_ACCOUNT_NOT_FOUND
    )
    assert add_decision(AddFacts(already_friend=True, i_blocked_target=True))[1] == (
        ErrorCode.ERR_SVR_FRIENDSHIP_ALREADY_FRIENDS
    )
    assert add_decision(AddFacts(i_blocked_target=True, target_blocked_me=True))[1] == (
        ErrorCode.ERR_SVR_FRIENDSHIP_IN_SELF_BLACKLIST
    )
    assert add_decision(AddFacts(target_blocked_me=True, permission=AddPermission.ALLOW_ANY)) == (
        AddOutcome.REFUSED,
        ErrorCode.ERR_SVR_FRIENDSHIP_IN_PEER_BLACKLIST,
    )


@given(facts)
def test_add_decision_properties(f: AddFacts) -> None:
    outcome, code = add_decision(f)
    # Added exactly when the code is 0; a block either way never adds nor applies.
    assert (outcome == AddOutcome.ADDED) == (code == 0)
    if f.i_blocked_target or f.target_blocked_me or f.is_self or not f.target_exists:
        assert outcome == AddOutcome.REFUSED
    if outcome == AddOutcome.PENDING:
        assert not f.target_has_me
        assert f.permission in (
            AddPermission.NEED_CONFIRM,
            AddPermission.UNKNOWN,
        )


@given(st.booleans(), st.booleans())
def test_relations_are_symmetric(a_has_b: bool, b_has_a: bool) -> None:
    mine, theirs = relation(a_has_b, b_has_a), relation(b_has_a, a_has_b)
    swap = {Relation.A_WITH_B: Relation.B_WITH_A, Relation.B_WITH_A: Relation.A_WITH_B}
    assert theirs == swap.get(mine, mine)
    assert checked_relation(FriendType.BOTH, a_has_b, b_has_a) == mine
    single = checked_relation(FriendType.SINGLE, a_has_b, b_has_a)
    assert single == (Relation.A_WITH_B if a_has_b else Relation.NONE)


@given(st.booleans(), st.booleans())
def test_follow_types(i_follow: bool, follows_me: bool) -> None:
    t = follow_type(i_follow, follows_me)
    assert bool(t & FollowType.FOLLOWING) == i_follow
    assert bool(t & FollowType.FOLLOWER) == follows_me
    assert is_mutual(i_follow, follows_me) == (i_follow and follows_me)
    assert follow_type(follows_me, i_follow) in (
        FollowType(t),
        FollowType(3 - t) if t in (1, 2) else t,
    )


def test_answers() -> None:
    assert answer_adds(ResponseAction.AGREE) == (True, False)
    assert answer_adds(ResponseAction.AGREE_AND_ADD) == (True, True)
    assert answer_adds(ResponseAction.REJECT) == (False, False)


def test_search_fields() -> None:
    assert friend_matches(["li"], 0, "alice", "", "")
    assert not friend_matches(["bo"], SearchField.IDENTIFIER, "alice", "Bob", "")
    assert friend_matches(["BO"], SearchField.NICK, "alice", "Bob", "")
    assert friend_matches(["boss"], SearchField.REMARK | SearchField.NICK, "a", "x", "The Boss")
    assert not friend_matches([""], 7, "a", "b", "c")


@given(st.lists(st.text(min_size=1, max_size=4)), st.text(max_size=8), st.text(max_size=8))
def test_search_matches_a_keyword_in_a_chosen_field(
    words: list[str], nick: str, remark: str
) -> None:
    hit = friend_matches(words, SearchField.NICK, "id", nick, remark)
    assert hit == any(w.casefold() in nick.casefold() for w in words)


@given(st.lists(st.integers(0, 100)), st.integers(0, 100))
def test_unread_applications(times: list[int], read_time: int) -> None:
    n = unread_applications(times, read_time)
    assert 0 <= n <= len(times)
    assert unread_applications(times, max(times, default=0)) == 0
