"""Wire models of friendship: friends, applications, the blacklist, friend groups, follows and
official accounts, with the request bodies of their ops (``ops.OPS``) and the push they share.

All of it is server state: every device of a user reads it from the server and learns of each
change through a ``friend`` push (``FriendEvent``), which the SDK turns into the callbacks of
TIMFriendshipManager.h.
"""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from . import limits
from .models import Profile, Req, Struct
from .ranges import U32, U64

Ids = Annotated[list[str], Meta(max_length=limits.MAX_FRIENDS_PER_CALL)]
Names = Annotated[list[str], Meta(max_length=limits.MAX_FRIEND_GROUPS)]


class CustomField(Struct):
    key: str
    value: str


class Friend(Struct):
    """One entry of my friend list (FriendProfile)."""

    user_id: str
    remark: str = ""
    groups: list[str] = []
    custom: list[CustomField] = []
    add_source: str = ""
    add_wording: str = ""
    add_time: int = 0
    profile: Profile | None = None


class Application(Struct):
    """A friend application (FriendAddPendencyInfo): ``user_id`` is the other side; ``type``
    0 = to me, 1 = from me (TIMFriendPendencyType)."""

    user_id: str
    type: int
    add_source: str = ""
    add_wording: str = ""
    add_time: int = 0
    nick: str = ""
    face_url: str = ""


class UserResult(Struct):
    """The outcome for one user of a batch call (FriendResult, FollowOperationResult …)."""

    user_id: str
    code: int = 0
    desc: str = ""


class Relation(Struct):
    """A friend check's or a follow check's answer for one user."""

    user_id: str
    relation: int
    code: int = 0
    desc: str = ""


class FriendInfo(Struct):
    """TIMFriendshipGetFriendsInfo's answer for one user: the relation, and the friend entry
    (or only the profile, when not in my list)."""

    user_id: str
    relation: int
    friend: Friend
    code: int = 0
    desc: str = ""


class FriendGroup(Struct):
    name: str
    user_ids: list[str] = []


class OfficialAccount(Struct):
    account_id: str
    name: str
    face_url: str = ""
    owner: str = ""
    introduction: str = ""
    organization: str = ""
    custom_data: str = ""
    create_time: int = 0
    subscriber_count: int = 0
    subscribe_time: int = 0


class AccountResult(Struct):
    account_id: str
    account: OfficialAccount | None = None
    code: int = 0
    desc: str = ""


class FollowCounts(Struct):
    user_id: str
    following: int = 0
    followers: int = 0
    mutual: int = 0
    code: int = 0
    desc: str = ""


class FriendEvent(Struct):
    """A change to a user's friendship state, pushed to each of their devices.

    ``kind`` names the callback: ``friend_added``, ``friend_deleted``, ``friend_updated``,
    ``app_added``, ``app_deleted``, ``app_read``, ``black_added``, ``black_deleted``,
    ``group_created``, ``group_deleted``, ``group_renamed``, ``group_added``,
    ``group_removed``, ``oa_subscribed``, ``oa_unsubscribed``, ``oa_deleted``, ``oa_changed``,
    ``following``, ``followers``, ``mutual``.
    """

    kind: str
    user_ids: list[str] = []
    friends: list[Friend] = []
    applications: list[Application] = []
    profiles: list[Profile] = []
    name: str = ""
    new_name: str = ""
    account: OfficialAccount | None = None
    is_add: bool = False


class FriendPush(Struct):
    event: FriendEvent


# --- requests and answers ------------------------------------------------------------------
class FriendAddReq(Struct):
    user_id: str
    add_type: U32 = 1
    remark: str = ""
    group_name: str = ""
    add_source: str = ""
    add_wording: str = ""


class IdsReq(Struct):
    user_ids: Ids


class TypedIdsReq(Struct):
    """Ids and a type: the friend type of a delete or check, the pendency type of a delete."""

    user_ids: Ids
    type: U32 = 1


class ResultsRes(Struct):
    results: list[UserResult]


class RelationsRes(Struct):
    results: list[Relation]


class FriendsRes(Struct):
    friends: list[Friend]


class FriendInfosRes(Struct):
    results: list[FriendInfo]


class FriendModifyReq(Struct):
    """Change my entry for a friend; a field left out stays as it is."""

    user_id: str
    remark: str | None = None
    groups: Names | None = None
    custom: (
        Annotated[list[CustomField], Meta(max_length=limits.MAX_FRIEND_CUSTOM_FIELDS)] | None
    ) = None


class FriendSearchReq(Struct):
    keywords: Annotated[list[str], Meta(max_length=limits.MAX_SEARCH_KEYWORDS)]
    fields: U32 = 0


class ApplicationsReq(Struct):
    type: U32 = 2
    limit: U32 = 100


class ApplicationsRes(Struct):
    applications: list[Application]
    unread: int = 0
    read_time: int = 0


class AnswerReq(Struct):
    user_id: str
    action: U32
    remark: str = ""
    group_name: str = ""


class ReadReq(Req):
    time: U64 = 0


class FriendGroupReq(Struct):
    """Create groups (``names``, with ``user_ids`` in each), or change one (``names[0]``:
    rename to ``new_name``, add ``user_ids``, remove ``remove_ids``)."""

    names: Names = []
    user_ids: Ids = []
    new_name: str = ""
    remove_ids: Ids = []


class FriendGroupsRes(Struct):
    groups: list[FriendGroup]


class FollowListReq(Struct):
    """``kind``: 0 following, 1 followers, 2 mutual; ``cursor`` as the last answer gave it."""

    kind: U32
    cursor: str = ""


class FollowListRes(Struct):
    users: list[Profile]
    cursor: str = ""


class FollowCountsRes(Struct):
    results: list[FollowCounts]


class AccountIdReq(Struct):
    account_id: str


class AccountsReq(Struct):
    """Ids of official accounts; none = the ones I subscribe to."""

    account_ids: Ids = []


class AccountsRes(Struct):
    results: list[AccountResult]
