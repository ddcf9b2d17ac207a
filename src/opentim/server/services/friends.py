"""Friendship: friends (added under the target's add permission), applications, the blacklist,
friend groups, follows and official accounts.

State lives in the store; each change is pushed (``friend`` push, ``FriendEvent``) to every
device of each user it concerns, the calling device included, as Tencent's callbacks fire
there too. A change to a friend entry also moves the C2C conversation (its show name is the
remark), so the conversation is pushed to the owner's devices.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from opentim.protocol import ConvType, ErrorCode, Profile, push_frame
from opentim.protocol.friendship import (
    AccountResult,
    Application,
    ApplicationsRes,
    CustomField,
    FollowCounts,
    Friend,
    FriendAddReq,
    FriendEvent,
    FriendGroup,
    FriendInfo,
    FriendModifyReq,
    FriendPush,
    OfficialAccount,
    Relation,
    UserResult,
)
from opentim.protocol.limits import (
    FOLLOW_PAGE,
    MAX_APPLICATIONS_PAGE,
    MAX_FRIEND_CUSTOM_BYTES,
    MAX_FRIEND_GROUP_NAME_BYTES,
    MAX_FRIEND_GROUPS,
    MAX_FRIEND_REMARK_BYTES,
    MAX_FRIEND_SOURCE_BYTES,
    MAX_FRIEND_WORDING_BYTES,
    MAX_FRIENDS,
    valid_user_id,
)
from opentim.protocol.ranges import clamp_time
from opentim.protocol.rules.friends import (
    FriendType,
    PendencyType,
    ResponseAction,
    checked_relation,
    follow_type,
    friend_matches,
    relation,
    unread_applications,
)

from ..bus.base import Bus, Envelope
from ..store.base import Store
from ..store.repos.friends import AddResult
from .blocks import Blacklists
from .conversations import ConversationService
from .errors import ServiceError

PARAM = ErrorCode.ERR_SVR_FRIENDSHIP_INVALID_PARAMETERS


def _within(value: str, limit: int, what: str) -> None:
    if len(value.encode()) > limit:
        raise ServiceError(PARAM, f"{what} over {limit} bytes")


def _group_name(name: str) -> str:
    if not 0 < len(name.encode()) <= MAX_FRIEND_GROUP_NAME_BYTES:
        raise ServiceError(PARAM, f"friend group names are 1-{MAX_FRIEND_GROUP_NAME_BYTES} bytes")
    return name


def _custom(fields: list[CustomField]) -> None:
    for f in fields:
        _within(f.key, 64, "custom field key")
        _within(f.value, MAX_FRIEND_CUSTOM_BYTES, "custom field value")


def _unique(ids: list[str]) -> list[str]:
    return list(dict.fromkeys(ids))


class FriendService:
    def __init__(
        self,
        store: Store,
        bus: Bus,
        conversations: ConversationService,
        clock: Callable[[], float],
        blacklists: Blacklists | None = None,
    ) -> None:
        self.store = store
        self.repo = store.friends
        self.bus = bus
        self.conversations = conversations
        self.clock = clock
        self.blacklists = blacklists or Blacklists(store, clock)

    def _blacklist_changed(self, user_id: str) -> None:
        """Drop the cached copy here and on every other node (the send path reads it)."""
        self.blacklists.forget(user_id)
        self.bus.publish(Envelope(blacklist_changed=user_id))

    def _now(self) -> int:
        return int(self.clock())

    def tell(self, user_ids: list[str], event: FriendEvent) -> None:
        """Push ``event`` to every device of ``user_ids``."""
        if user_ids:
            frame = push_frame("friend", FriendPush(event=event))
            self.bus.publish(Envelope(frame=frame, users=_unique(user_ids)))

    async def _friends_changed(self, pairs: list[tuple[str, str]], kind: str) -> None:
        """Tell each owner which friends entered (or left) their list, and push the C2C
        conversations whose show name that changes."""
        by_owner: dict[str, list[str]] = {}
        for owner, friend in pairs:
            by_owner.setdefault(owner, []).append(friend)
        for owner, friends in by_owner.items():
            self.tell([owner], FriendEvent(kind=kind, user_ids=friends))
            await self._push_convs(owner, friends)

    async def _push_convs(self, owner: str, peers: list[str]) -> None:
        convs = await self.store.convs.get_conversations(owner, [(ConvType.C2C, p) for p in peers])
        if convs:
            self.conversations.publish(owner, convs)

    async def _settled(self, pairs: list[tuple[str, str]]) -> None:
        """Applications ``(user, applicant)`` are gone: tell both sides."""
        for user, applicant in pairs:
            self.tell([user], FriendEvent(kind="app_deleted", user_ids=[applicant]))
            self.tell([applicant], FriendEvent(kind="app_deleted", user_ids=[user]))

    # --- friends ----------------------------------------------------------------------------
    async def add(self, user_id: str, req: FriendAddReq) -> UserResult:
        if req.add_type not in (FriendType.SINGLE, FriendType.BOTH):
            raise ServiceError(PARAM, "friend type is 0 (one way) or 1 (both ways)")
        if not valid_user_id(req.user_id):
            raise ServiceError(PARAM, "invalid user id")
        _within(req.remark, MAX_FRIEND_REMARK_BYTES, "remark")
        _within(req.add_wording, MAX_FRIEND_WORDING_BYTES, "add wording")
        _within(req.add_source, MAX_FRIEND_SOURCE_BYTES, "add source")
        if req.group_name:
            _group_name(req.group_name)
        if len(await self.repo.friends(user_id)) >= MAX_FRIENDS:
            return UserResult(user_id=req.user_id, code=ErrorCode.ERR_SVR_FRIENDSHIP_COUNT_LIMIT)
        now = self._now()
        done: AddResult = await self.repo.add_friend(
            user_id,
            req.user_id,
            req.add_type,
            req.remark,
            req.group_name,
            req.add_source,
            req.add_wording,
            now,
        )
        if done.applied:
            me = await self.store.users.get_profiles([user_id, req.user_id])
            app = Application(
                user_id=user_id,
                type=PendencyType.COME_IN,
                add_source=req.add_source,
                add_wording=req.add_wording,
                add_time=now,
                nick=me[user_id].nick if user_id in me else "",
                face_url=me[user_id].face_url if user_id in me else "",
            )
            target = me.get(req.user_id)
            mine = Application(
                user_id=req.user_id,
                type=PendencyType.SEND_OUT,
                add_source=req.add_source,
                add_wording=req.add_wording,
                add_time=now,
                nick=target.nick if target else "",
                face_url=target.face_url if target else "",
            )
            self.tell([req.user_id], FriendEvent(kind="app_added", applications=[app]))
            self.tell([user_id], FriendEvent(kind="app_added", applications=[mine]))
        await self._friends_changed(done.added, "friend_added")
        await self._settled(done.withdrawn)
        code = done.codes[req.user_id]
        return UserResult(user_id=req.user_id, code=code, desc=_desc(code))

    async def delete(self, user_id: str, ids: list[str], friend_type: int) -> list[UserResult]:
        ids = _unique(ids)
        found, removed = await self.repo.delete_friends(
            user_id, ids, friend_type == FriendType.BOTH
        )
        await self._friends_changed(removed, "friend_deleted")
        done = {i for i in ids if found[i]}
        return _results(ids, done, ErrorCode.ERR_SVR_FRIENDSHIP_DEL_NONFRIEND, "not a friend")

    async def check(self, user_id: str, ids: list[str], check_type: int) -> list[Relation]:
        ids = _unique(ids)
        mine, theirs = await self.repo.relations(user_id, ids)
        return [
            Relation(user_id=i, relation=checked_relation(check_type, i in mine, i in theirs))
            for i in ids
        ]

    async def friends(self, user_id: str) -> list[Friend]:
        return await self.repo.friends(user_id)

    async def infos(self, user_id: str, ids: list[str]) -> list[FriendInfo]:
        """Each user's relation to me and my entry for them (only their profile when they are
        not in my list); an unknown user gets 30003."""
        ids = _unique(ids)
        entries = {f.user_id: f for f in await self.repo.friends(user_id, ids)}
        profiles = await self.store.users.get_profiles(ids)
        mine, theirs = await self.repo.relations(user_id, ids)
        out = []
        for i in ids:
            if i not in profiles:
                out.append(
                    FriendInfo(
                        user_id=i,
                        relation=0,
                        friend=Friend(user_id=i),
                        code=ErrorCode.ERR_SVR_FRIENDSHIP_ACCOUNT_NOT_FOUND,
                        desc="no such user",
                    )
                )
                continue
            friend = entries.get(i) or Friend(user_id=i, profile=profiles[i])
            out.append(
                FriendInfo(user_id=i, relation=relation(i in mine, i in theirs), friend=friend)
            )
        return out

    async def modify(self, user_id: str, req: FriendModifyReq) -> None:
        if req.remark is not None:
            _within(req.remark, MAX_FRIEND_REMARK_BYTES, "remark")
        groups = None if req.groups is None else [_group_name(n) for n in _unique(req.groups)]
        if req.custom is not None:
            _custom(req.custom)
        friend = await self.repo.modify_friend(
            user_id, req.user_id, req.remark, groups, req.custom, self._now()
        )
        if friend is None:
            raise ServiceError(
                ErrorCode.ERR_SVR_FRIENDSHIP_DEL_NONFRIEND, f"{req.user_id!r} is not a friend"
            )
        self.tell([user_id], FriendEvent(kind="friend_updated", friends=[friend]))
        if req.remark is not None:
            await self._push_convs(user_id, [req.user_id])

    async def search(self, user_id: str, keywords: list[str], fields: int) -> list[FriendInfo]:
        friends = await self.repo.friends(user_id)
        hits = [
            f
            for f in friends
            if friend_matches(
                keywords, fields, f.user_id, f.profile.nick if f.profile else "", f.remark
            )
        ]
        ids = [f.user_id for f in hits]
        _, theirs = await self.repo.relations(user_id, ids)
        return [
            FriendInfo(user_id=f.user_id, relation=relation(True, f.user_id in theirs), friend=f)
            for f in hits
        ]

    # --- applications ------------------------------------------------------------------------
    async def applications(self, user_id: str, kind: int, limit: int) -> ApplicationsRes:
        if kind not in tuple(PendencyType):
            raise ServiceError(PARAM, "pendency type is 0, 1 or 2")
        limit = max(1, min(limit or MAX_APPLICATIONS_PAGE, MAX_APPLICATIONS_PAGE))
        apps, read_time, times = await self.repo.applications(user_id, kind, limit)
        return ApplicationsRes(
            applications=apps, unread=unread_applications(times, read_time), read_time=read_time
        )

    async def answer(
        self, user_id: str, applicant: str, action: int, remark: str, group_name: str
    ) -> UserResult:
        if action not in tuple(ResponseAction):
            raise ServiceError(PARAM, "response action is 0, 1 or 2")
        _within(remark, MAX_FRIEND_REMARK_BYTES, "remark")
        if group_name:
            _group_name(group_name)
        done = await self.repo.answer(user_id, applicant, action, remark, group_name, self._now())
        if done is None:
            return UserResult(
                user_id=applicant,
                code=ErrorCode.ERR_SVR_FRIENDSHIP_PENDENCY_NOT_FOUND,
                desc="no application from this user",
            )
        await self._friends_changed(done.added, "friend_added")
        await self._settled(done.withdrawn)
        return UserResult(user_id=applicant)

    async def report_read(self, user_id: str, time: int) -> None:
        await self.repo.report_read(user_id, clamp_time(time) or self._now())
        self.tell([user_id], FriendEvent(kind="app_read"))

    async def delete_applications(
        self, user_id: str, kind: int, ids: list[str]
    ) -> list[UserResult]:
        if kind not in (PendencyType.COME_IN, PendencyType.SEND_OUT):
            raise ServiceError(PARAM, "pendency type is 0 (to me) or 1 (from me)")
        ids = _unique(ids)
        had = await self.repo.delete_applications(user_id, kind, ids)
        if kind == PendencyType.SEND_OUT:
            await self._settled([(other, user_id) for other in had])
        else:
            await self._settled([(user_id, other) for other in had])
        return _results(
            ids, had, ErrorCode.ERR_SVR_FRIENDSHIP_PENDENCY_NOT_FOUND, "no such application"
        )

    # --- blacklist ------------------------------------------------------------------------
    async def block(self, user_id: str, ids: list[str]) -> list[UserResult]:
        ids = _unique(ids)
        if user_id in ids:
            raise ServiceError(PARAM, "one cannot block oneself")
        new, removed = await self.repo.block(user_id, ids, self._now())
        if new:
            self._blacklist_changed(user_id)
        await self._friends_changed(removed, "friend_deleted")
        if new:
            profiles = await self.store.users.get_profiles(new)
            self.tell(
                [user_id],
                FriendEvent(
                    kind="black_added",
                    friends=[Friend(user_id=i, profile=profiles.get(i)) for i in new],
                ),
            )
        known = set(await self.store.users.get_profiles(ids))
        return _results(ids, known, ErrorCode.ERR_SVR_FRIENDSHIP_ACCOUNT_NOT_FOUND, "no such user")

    async def unblock(self, user_id: str, ids: list[str]) -> list[UserResult]:
        ids = _unique(ids)
        had = await self.repo.unblock(user_id, ids)
        if had:
            self._blacklist_changed(user_id)
            self.tell([user_id], FriendEvent(kind="black_deleted", user_ids=had))
        return _results(
            ids, had, ErrorCode.ERR_SVR_FRIENDSHIP_INVALID_PARAMETERS, "not in the blacklist"
        )

    async def blacklist(self, user_id: str) -> list[Friend]:
        return [
            Friend(user_id=i, add_time=t, profile=p or Profile(user_id=i))
            for i, t, p in await self.repo.blacklist(user_id)
        ]

    # --- friend groups ------------------------------------------------------------------------
    async def create_groups(
        self, user_id: str, names: list[str], ids: list[str]
    ) -> list[UserResult]:
        names = [_group_name(n) for n in _unique(names)]
        if not names:
            raise ServiceError(PARAM, "no group name")
        ids = _unique(ids)
        made = await self.repo.create_groups(user_id, names, ids, self._now(), MAX_FRIEND_GROUPS)
        if made is None:
            raise ServiceError(
                ErrorCode.ERR_SVR_FRIENDSHIP_GROUP_COUNT_LIMIT,
                f"at most {MAX_FRIEND_GROUPS} friend groups",
            )
        created, members = made
        if created:
            friends = await self.repo.friends(user_id, members)
            for name in created:
                self.tell([user_id], FriendEvent(kind="group_created", name=name, friends=friends))
        return _member_results(ids, members)

    async def delete_groups(self, user_id: str, names: list[str]) -> None:
        gone = await self.repo.delete_groups(user_id, _unique(names))
        if gone:
            self.tell([user_id], FriendEvent(kind="group_deleted", user_ids=gone))

    async def change_group(
        self, user_id: str, name: str, new_name: str, add: list[str], remove: list[str]
    ) -> list[UserResult]:
        _group_name(name)
        if new_name:
            _group_name(new_name)
        add, remove = _unique(add), _unique(remove)
        done = await self.repo.change_group(user_id, name, new_name, add, remove)
        if done is None:
            raise ServiceError(PARAM, f"no friend group {name!r}, or {new_name!r} is taken")
        added, removed = done
        current = new_name or name
        if new_name and new_name != name:
            self.tell([user_id], FriendEvent(kind="group_renamed", name=name, new_name=new_name))
        if added:
            friends = await self.repo.friends(user_id, added)
            self.tell([user_id], FriendEvent(kind="group_added", name=current, friends=friends))
        if removed:
            self.tell([user_id], FriendEvent(kind="group_removed", name=current, user_ids=removed))
        return _member_results(add, added) + [UserResult(user_id=i) for i in remove]

    async def groups(self, user_id: str, names: list[str]) -> list[FriendGroup]:
        return await self.repo.friend_groups(user_id, names or None)

    # --- follows ------------------------------------------------------------------------------
    async def follow(self, user_id: str, ids: list[str], on: bool) -> list[UserResult]:
        codes, changed, mutual = await self.repo.follow(user_id, _unique(ids), on, self._now())
        if changed:
            profiles = await self.store.users.get_profiles([user_id, *changed])
            me = profiles.get(user_id, Profile(user_id=user_id))
            them = [profiles[i] for i in changed if i in profiles]
            self.tell([user_id], FriendEvent(kind="following", profiles=them, is_add=on))
            self.tell(changed, FriendEvent(kind="followers", profiles=[me], is_add=on))
            if mutual:
                both = [profiles[i] for i in mutual if i in profiles]
                self.tell([user_id], FriendEvent(kind="mutual", profiles=both, is_add=on))
                self.tell(mutual, FriendEvent(kind="mutual", profiles=[me], is_add=on))
        done = [i for i, c in codes.items() if not c]
        return _results(
            list(codes), done, ErrorCode.ERR_SVR_FRIENDSHIP_ACCOUNT_NOT_FOUND, "no such user"
        )

    async def follow_list(self, user_id: str, kind: int, cursor: str) -> tuple[list[Profile], str]:
        if kind not in (0, 1, 2):
            raise ServiceError(PARAM, "list kind is 0, 1 or 2")
        page = await self.repo.follow_page(user_id, kind, cursor, FOLLOW_PAGE)
        return page, page[-1].user_id if len(page) == FOLLOW_PAGE else ""

    async def follow_counts(self, ids: list[str]) -> list[FollowCounts]:
        ids = _unique(ids)
        counts = await self.repo.follow_counts(ids)
        return [
            FollowCounts(user_id=i, following=c[0], followers=c[1], mutual=c[2])
            for i, c in counts.items()
        ]

    async def follow_check(self, user_id: str, ids: list[str]) -> list[Relation]:
        ids = _unique(ids)
        mine, theirs = await self.repo.follow_flags(user_id, ids)
        return [Relation(user_id=i, relation=follow_type(i in mine, i in theirs)) for i in ids]

    # --- official accounts ---------------------------------------------------------------------
    async def subscribe(self, user_id: str, account_id: str, on: bool) -> None:
        changed = await self.repo.subscribe(user_id, account_id, on, self._now())
        if changed is None:
            raise ServiceError(
                ErrorCode.ERR_SVR_FRIENDSHIP_ACCOUNT_NOT_FOUND,
                f"no official account {account_id!r}",
            )
        if not changed:
            return
        if on:
            found = await self.repo.accounts(user_id, [account_id])
            self.tell([user_id], FriendEvent(kind="oa_subscribed", account=found[0].account))
        else:
            self.tell([user_id], FriendEvent(kind="oa_unsubscribed", name=account_id))

    async def accounts(self, user_id: str, ids: list[str]) -> list[AccountResult]:
        found = await self.repo.accounts(user_id, _unique(ids))
        for r in found:
            if r.code:
                r.code, r.desc = ErrorCode.ERR_SVR_FRIENDSHIP_ACCOUNT_NOT_FOUND, "no such account"
        return found

    async def put_account(self, account: OfficialAccount) -> None:
        """Create or change an official account (the administrator's path; the REST API comes
        later); its subscribers learn of the change."""
        if not account.create_time:
            account.create_time = self._now()
        await self.repo.put_account(account)
        subs = await self.repo.subscribers(account.account_id)
        if subs:
            found = await self.repo.accounts(subs[0], [account.account_id])
            self.tell(subs, FriendEvent(kind="oa_changed", account=found[0].account))

    async def delete_account(self, account_id: str) -> None:
        subs = await self.repo.delete_account(account_id)
        self.tell(subs, FriendEvent(kind="oa_deleted", name=account_id))


def _results(ids: list[str], done: Iterable[str], code: int, desc: str) -> list[UserResult]:
    """Per id: success when it is in ``done``, else ``code`` and ``desc``."""
    ok = set(done)
    return [
        UserResult(user_id=i) if i in ok else UserResult(user_id=i, code=code, desc=desc)
        for i in ids
    ]


def _member_results(asked: list[str], put: list[str]) -> list[UserResult]:
    return _results(asked, put, ErrorCode.ERR_SVR_FRIENDSHIP_DEL_NONFRIEND, "not a friend")


def _desc(code: int) -> str:
    return {
        0: "",
        ErrorCode.ERR_SVR_FRIENDSHIP_ALLOW_TYPE_NEED_CONFIRM: "waiting for the user's answer",
        ErrorCode.ERR_SVR_FRIENDSHIP_ALLOW_TYPE_DENY_ANY: "the user accepts no friends",
        ErrorCode.ERR_SVR_FRIENDSHIP_IN_PEER_BLACKLIST: "the user has blocked you",
        ErrorCode.ERR_SVR_FRIENDSHIP_IN_SELF_BLACKLIST: "you have blocked the user",
        ErrorCode.ERR_SVR_FRIENDSHIP_ALREADY_FRIENDS: "already a friend",
        ErrorCode.ERR_SVR_FRIENDSHIP_ACCOUNT_NOT_FOUND: "no such user",
        ErrorCode.ERR_SVR_FRIENDSHIP_INVALID_PARAMETERS: "one cannot add oneself",
    }.get(code, "")
