"""The group rules (protocol.rules.groups) without a database: who may change what, how joins
and invitations go, how pending applications are handled; then properties over every role."""

from __future__ import annotations

from hypothesis import given, strategies as st

from opentim.protocol import AddOption, ErrorCode, GroupPendency, GroupType, MemberRole
from opentim.protocol.rules import (
    Handled,
    InfoField,
    JoinOutcome,
    MemberField,
    PendencyType,
    handle_refusal,
    handled,
    handled_for,
    info_refusal,
    invite_outcome,
    join_outcome,
    joiner,
    may_send,
    member_refusal,
    mute_until,
    unread_pendencies,
    valid_add_option,
)

OWNER, ADMIN, NORMAL, NONE = MemberRole.OWNER, MemberRole.ADMIN, MemberRole.NORMAL, MemberRole.NONE
PUBLIC, WORK, MEETING = GroupType.PUBLIC, GroupType.PRIVATE, GroupType.CHATROOM
DENIED = ErrorCode.ERR_SVR_GROUP_PERMISSION_DENY


def code(refusal: object) -> object:
    return None if refusal is None else refusal.code  # type: ignore[attr-defined]


# --- group info -----------------------------------------------------------------------------
def test_any_member_changes_a_work_groups_profile_but_only_managers_elsewhere() -> None:
    assert info_refusal(WORK, NORMAL, InfoField.NAME | InfoField.FACE_URL) is None
    assert code(info_refusal(PUBLIC, NORMAL, InfoField.NAME)) == DENIED
    assert code(info_refusal(MEETING, NORMAL, InfoField.NOTIFICATION)) == DENIED
    assert info_refusal(PUBLIC, ADMIN, InfoField.INTRODUCTION | InfoField.CUSTOM) is None
    assert info_refusal(MEETING, OWNER, InfoField.NAME) is None


def test_mute_all_and_the_join_option_are_the_managers_and_work_groups_have_no_join_option() -> (
    None
):
    assert code(info_refusal(WORK, NORMAL, InfoField.SHUTUP_ALL)) == DENIED
    assert info_refusal(PUBLIC, ADMIN, InfoField.SHUTUP_ALL | InfoField.ADD_OPTION) is None
    assert code(info_refusal(WORK, OWNER, InfoField.ADD_OPTION)) == DENIED
    assert info_refusal(WORK, OWNER, InfoField.APPROVE_OPTION) is None


def test_only_the_owner_hands_the_group_over() -> None:
    assert info_refusal(PUBLIC, OWNER, InfoField.OWNER) is None
    assert code(info_refusal(PUBLIC, ADMIN, InfoField.OWNER)) == DENIED


def test_non_members_unknown_flags_and_empty_changes_are_refused() -> None:
    assert code(info_refusal(WORK, NONE, InfoField.NAME)) == DENIED
    assert code(info_refusal(PUBLIC, OWNER, 0x20)) == ErrorCode.ERR_SDK_INTERFACE_NOT_SUPPORT
    assert code(info_refusal(PUBLIC, OWNER, 0)) == ErrorCode.ERR_INVALID_PARAMETERS
    assert [valid_add_option(v) for v in range(4)] == [True, True, True, False]


# --- member info ----------------------------------------------------------------------------
def test_a_name_card_is_ones_own_or_a_managers_above_them() -> None:
    assert member_refusal(PUBLIC, NORMAL, NORMAL, MemberField.NAME_CARD, is_self=True) is None
    assert (
        code(member_refusal(PUBLIC, NORMAL, NORMAL, MemberField.NAME_CARD, is_self=False)) == DENIED
    )
    assert member_refusal(PUBLIC, ADMIN, NORMAL, MemberField.CUSTOM, is_self=False) is None
    assert (
        code(member_refusal(PUBLIC, ADMIN, ADMIN, MemberField.NAME_CARD, is_self=False)) == DENIED
    )
    assert member_refusal(PUBLIC, OWNER, ADMIN, MemberField.NAME_CARD, is_self=False) is None


def test_muting_goes_down_the_ranks_never_to_oneself_or_the_owner() -> None:
    mute = MemberField.SHUTUP_TIME
    assert member_refusal(PUBLIC, ADMIN, NORMAL, mute, is_self=False) is None
    assert member_refusal(PUBLIC, OWNER, ADMIN, mute, is_self=False) is None
    assert code(member_refusal(PUBLIC, ADMIN, ADMIN, mute, is_self=False)) == DENIED
    assert code(member_refusal(PUBLIC, ADMIN, OWNER, mute, is_self=False)) == DENIED
    assert code(member_refusal(PUBLIC, OWNER, OWNER, mute, is_self=True)) == DENIED
    assert code(member_refusal(WORK, NORMAL, NORMAL, mute, is_self=False)) == DENIED


def test_only_the_owner_appoints_admins_and_work_groups_have_none() -> None:
    role = MemberField.ROLE
    assert member_refusal(PUBLIC, OWNER, NORMAL, role, is_self=False, new_role=ADMIN) is None
    assert member_refusal(MEETING, OWNER, ADMIN, role, is_self=False, new_role=NORMAL) is None
    assert (
        code(member_refusal(PUBLIC, ADMIN, NORMAL, role, is_self=False, new_role=ADMIN)) == DENIED
    )
    assert code(member_refusal(WORK, OWNER, NORMAL, role, is_self=False, new_role=ADMIN)) == DENIED
    bad = member_refusal(PUBLIC, OWNER, NORMAL, role, is_self=False, new_role=OWNER)
    assert code(bad) == ErrorCode.ERR_INVALID_PARAMETERS
    assert code(member_refusal(PUBLIC, OWNER, OWNER, role, is_self=True, new_role=ADMIN)) == DENIED


def test_the_receive_option_is_ones_own() -> None:
    assert member_refusal(PUBLIC, NORMAL, NORMAL, MemberField.MSG_FLAG, is_self=True) is None
    assert (
        code(member_refusal(PUBLIC, OWNER, NORMAL, MemberField.MSG_FLAG, is_self=False)) == DENIED
    )


def test_member_changes_need_two_members_and_known_flags() -> None:
    assert (
        code(member_refusal(PUBLIC, NONE, NORMAL, MemberField.NAME_CARD, is_self=False)) == DENIED
    )
    assert code(member_refusal(PUBLIC, OWNER, NONE, MemberField.NAME_CARD, is_self=False)) == DENIED
    unknown = member_refusal(PUBLIC, OWNER, NORMAL, 0x40, is_self=False)
    assert code(unknown) == ErrorCode.ERR_SDK_INTERFACE_NOT_SUPPORT
    assert (
        code(member_refusal(PUBLIC, OWNER, NORMAL, 0, is_self=False))
        == ErrorCode.ERR_INVALID_PARAMETERS
    )


# --- joining and inviting -------------------------------------------------------------------
def test_a_join_follows_the_add_option_and_work_groups_are_invitation_only() -> None:
    assert join_outcome(PUBLIC, AddOption.ANY) == JoinOutcome.JOIN
    assert join_outcome(PUBLIC, AddOption.AUTH) == JoinOutcome.APPLY
    assert join_outcome(MEETING, AddOption.FORBID) == JoinOutcome.FORBIDDEN
    assert join_outcome(WORK, AddOption.ANY) == JoinOutcome.INVITE_ONLY


def test_an_invitation_follows_the_approval_option_for_ordinary_members() -> None:
    assert invite_outcome(WORK, AddOption.ANY, NORMAL) == JoinOutcome.JOIN
    assert invite_outcome(WORK, AddOption.AUTH, NORMAL) == JoinOutcome.APPLY
    assert invite_outcome(WORK, AddOption.FORBID, NORMAL) == JoinOutcome.FORBIDDEN
    assert invite_outcome(WORK, AddOption.AUTH, OWNER) == JoinOutcome.JOIN
    assert invite_outcome(PUBLIC, AddOption.ANY, NORMAL) == JoinOutcome.FORBIDDEN
    assert invite_outcome(PUBLIC, AddOption.AUTH, ADMIN) == JoinOutcome.JOIN


# --- pendencies -----------------------------------------------------------------------------
def application(**kw: object) -> GroupPendency:
    base: dict[str, object] = {
        "group_id": "g",
        "from_user": "u",
        "to_user": "",
        "pendency_type": PendencyType.JOIN_NEEDS_ADMIN,
        "add_time": 10,
        "pos": 1,
    }
    return GroupPendency(**{**base, **kw})  # type: ignore[arg-type]


def test_an_application_is_handled_once_by_a_manager() -> None:
    p = application()
    assert joiner(p) == "u"
    assert code(handle_refusal(p, "x", NORMAL)) == DENIED
    assert handle_refusal(p, "a", ADMIN) is None
    done = handled(p, "a", True, "welcome")
    assert (done.handler, done.result, done.handle_msg) == ("a", 1, "welcome")
    assert (
        code(handle_refusal(done, "o", OWNER))
        == ErrorCode.ERR_SVR_GROUP_REQ_ALLREADY_BEEN_PROCESSED
    )
    assert handled_for(p.handler, "a") == Handled.NOT_HANDLED
    assert handled_for(done.handler, "a") == Handled.OPERATOR_HANDLED
    assert handled_for(done.handler, "o") == Handled.OTHER_HANDLED


def test_an_invitation_makes_the_invitee_the_joiner() -> None:
    p = application(
        from_user="inviter", to_user="guest", pendency_type=PendencyType.INVITE_NEEDS_ADMIN
    )
    assert joiner(p) == "guest"
    to_invitee = application(to_user="guest", pendency_type=PendencyType.INVITE_NEEDS_INVITEE)
    assert handle_refusal(to_invitee, "guest", NONE) is None
    assert code(handle_refusal(to_invitee, "o", OWNER)) == DENIED


def test_unread_pendencies_are_unhandled_ones_after_the_read_time() -> None:
    ps = [
        application(add_time=5),
        application(add_time=15),
        handled(application(add_time=20), "a", False, ""),
    ]
    assert unread_pendencies(ps, 0) == 2
    assert unread_pendencies(ps, 10) == 1
    assert unread_pendencies(ps, 15) == 0


def test_mutes_end_and_mute_all_spares_managers() -> None:
    assert mute_until(100, 60) == 160
    assert mute_until(100, 0) == 0
    assert code(may_send(NORMAL, 160, False, 159)) == ErrorCode.ERR_SVR_GROUP_SHUTUP_DENY
    assert may_send(NORMAL, 160, False, 160) is None
    assert code(may_send(NORMAL, 0, True, 1)) == ErrorCode.ERR_SVR_GROUP_SHUTUP_DENY
    assert may_send(ADMIN, 0, True, 1) is None


# --- properties -----------------------------------------------------------------------------
roles = st.sampled_from([NONE, NORMAL, ADMIN, OWNER])
types = st.sampled_from([PUBLIC, WORK, MEETING])
info_fields = st.integers(min_value=1, max_value=int(InfoField.OWNER) | 0x1FFF)
member_fields = st.integers(min_value=1, max_value=0x3F)


@given(types, roles, info_fields)
def test_whatever_a_member_may_change_the_owner_may_too(gtype: int, role: int, fields: int) -> None:
    if info_refusal(gtype, role, fields) is None:
        assert info_refusal(gtype, OWNER, fields) is None
        assert role >= NORMAL


@given(types, roles, roles, member_fields, st.booleans(), st.sampled_from([ADMIN, NORMAL]))
def test_nobody_changes_another_member_of_their_own_rank_or_above(
    gtype: int, actor: int, target: int, fields: int, is_self: bool, new_role: int
) -> None:
    allowed = (
        member_refusal(gtype, actor, target, fields, is_self=is_self, new_role=new_role) is None
    )
    if allowed and not is_self:
        assert actor > target >= NORMAL
    if allowed and fields & MemberField.SHUTUP_TIME:
        assert not is_self
        assert target != OWNER


@given(types, st.sampled_from(list(AddOption)[:3]), roles)
def test_an_invitation_by_a_manager_never_waits(gtype: int, option: int, role: int) -> None:
    outcome = invite_outcome(gtype, option, role)
    if role >= ADMIN:
        assert outcome == JoinOutcome.JOIN
    if outcome == JoinOutcome.APPLY:
        assert option == AddOption.AUTH


@given(st.lists(st.tuples(st.integers(0, 50), st.booleans()), max_size=20), st.integers(0, 60))
def test_reading_later_never_leaves_more_unread(items: list[tuple[int, bool]], t: int) -> None:
    ps = [
        handled(application(add_time=a), "h", True, "") if h else application(add_time=a)
        for a, h in items
    ]
    assert unread_pendencies(ps, t + 1) <= unread_pendencies(ps, t) <= len(ps)
