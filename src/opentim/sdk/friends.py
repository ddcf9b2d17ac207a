"""FriendshipManager: friends, applications, the blacklist, friend groups, follows and official
accounts. Everything is server state, asked from the server; the server's ``friend`` pushes
become ``events.friendship`` (one ``FriendEvent`` each)."""

from __future__ import annotations

from opentim.protocol import Profile, friendship as fs
from opentim.protocol.ops import Empty

from .transport import Transport


class FriendshipManager:
    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    # --- friends ---------------------------------------------------------------------------
    async def add(
        self,
        user_id: str,
        add_type: int = 1,
        *,
        remark: str = "",
        group_name: str = "",
        add_source: str = "",
        add_wording: str = "",
    ) -> fs.UserResult:
        """Add a friend; ``code`` 30539 means an application now waits for their answer."""
        req = fs.FriendAddReq(
            user_id=user_id,
            add_type=add_type,
            remark=remark,
            group_name=group_name,
            add_source=add_source,
            add_wording=add_wording,
        )
        return await self._transport.request("friend_add", req, fs.UserResult)

    async def delete(self, user_ids: list[str], friend_type: int = 1) -> list[fs.UserResult]:
        req = fs.TypedIdsReq(user_ids=user_ids, type=friend_type)
        return (await self._transport.request("friend_delete", req, fs.ResultsRes)).results

    async def check(self, user_ids: list[str], check_type: int = 1) -> list[fs.Relation]:
        req = fs.TypedIdsReq(user_ids=user_ids, type=check_type)
        return (await self._transport.request("friend_check", req, fs.RelationsRes)).results

    async def friends(self) -> list[fs.Friend]:
        return (await self._transport.request("friend_list", Empty(), fs.FriendsRes)).friends

    async def info(self, user_ids: list[str]) -> list[fs.FriendInfo]:
        req = fs.IdsReq(user_ids=user_ids)
        return (await self._transport.request("friend_info", req, fs.FriendInfosRes)).results

    async def modify(
        self,
        user_id: str,
        *,
        remark: str | None = None,
        groups: list[str] | None = None,
        custom: list[fs.CustomField] | None = None,
    ) -> None:
        req = fs.FriendModifyReq(user_id=user_id, remark=remark, groups=groups, custom=custom)
        await self._transport.request("friend_modify", req, Empty)

    async def search(self, keywords: list[str], fields: int = 0) -> list[fs.FriendInfo]:
        req = fs.FriendSearchReq(keywords=keywords, fields=fields)
        return (await self._transport.request("friend_search", req, fs.FriendInfosRes)).results

    # --- applications -------------------------------------------------------------------------
    async def applications(self, kind: int = 2, limit: int = 100) -> fs.ApplicationsRes:
        req = fs.ApplicationsReq(type=kind, limit=limit)
        return await self._transport.request("friend_apps", req, fs.ApplicationsRes)

    async def answer(
        self, user_id: str, action: int, *, remark: str = "", group_name: str = ""
    ) -> fs.UserResult:
        req = fs.AnswerReq(user_id=user_id, action=action, remark=remark, group_name=group_name)
        return await self._transport.request("friend_answer", req, fs.UserResult)

    async def report_read(self, time: int = 0) -> None:
        await self._transport.request("friend_apps_read", fs.ReadReq(time=time), Empty)

    async def delete_applications(self, user_ids: list[str], kind: int) -> list[fs.UserResult]:
        req = fs.TypedIdsReq(user_ids=user_ids, type=kind)
        return (await self._transport.request("friend_apps_delete", req, fs.ResultsRes)).results

    # --- blacklist ------------------------------------------------------------------------------
    async def block(self, user_ids: list[str]) -> list[fs.UserResult]:
        req = fs.IdsReq(user_ids=user_ids)
        return (await self._transport.request("black_add", req, fs.ResultsRes)).results

    async def unblock(self, user_ids: list[str]) -> list[fs.UserResult]:
        req = fs.IdsReq(user_ids=user_ids)
        return (await self._transport.request("black_delete", req, fs.ResultsRes)).results

    async def blacklist(self) -> list[fs.Friend]:
        return (await self._transport.request("black_list", Empty(), fs.FriendsRes)).friends

    # --- friend groups --------------------------------------------------------------------------
    async def create_groups(self, names: list[str], user_ids: list[str]) -> list[fs.UserResult]:
        req = fs.FriendGroupReq(names=names, user_ids=user_ids)
        return (await self._transport.request("fgroup_create", req, fs.ResultsRes)).results

    async def delete_groups(self, names: list[str]) -> None:
        await self._transport.request("fgroup_delete", fs.FriendGroupReq(names=names), Empty)

    async def change_group(
        self,
        name: str,
        *,
        new_name: str = "",
        add: list[str] | None = None,
        remove: list[str] | None = None,
    ) -> list[fs.UserResult]:
        req = fs.FriendGroupReq(
            names=[name], new_name=new_name, user_ids=add or [], remove_ids=remove or []
        )
        return (await self._transport.request("fgroup_modify", req, fs.ResultsRes)).results

    async def groups(self, names: list[str] | None = None) -> list[fs.FriendGroup]:
        req = fs.FriendGroupReq(names=names or [])
        return (await self._transport.request("fgroup_list", req, fs.FriendGroupsRes)).groups

    # --- follows ---------------------------------------------------------------------------------
    async def follow(self, user_ids: list[str]) -> list[fs.UserResult]:
        req = fs.IdsReq(user_ids=user_ids)
        return (await self._transport.request("follow", req, fs.ResultsRes)).results

    async def unfollow(self, user_ids: list[str]) -> list[fs.UserResult]:
        req = fs.IdsReq(user_ids=user_ids)
        return (await self._transport.request("unfollow", req, fs.ResultsRes)).results

    async def follow_list(self, kind: int, cursor: str = "") -> tuple[list[Profile], str]:
        """A page of the users I follow (0), who follow me (1), or both (2), and the cursor of
        the next page ("" at the end)."""
        req = fs.FollowListReq(kind=kind, cursor=cursor)
        res = await self._transport.request("follow_list", req, fs.FollowListRes)
        return res.users, res.cursor

    async def follow_counts(self, user_ids: list[str]) -> list[fs.FollowCounts]:
        req = fs.IdsReq(user_ids=user_ids)
        return (await self._transport.request("follow_counts", req, fs.FollowCountsRes)).results

    async def follow_check(self, user_ids: list[str]) -> list[fs.Relation]:
        req = fs.IdsReq(user_ids=user_ids)
        return (await self._transport.request("follow_check", req, fs.RelationsRes)).results

    # --- official accounts ---------------------------------------------------------------------
    async def subscribe(self, account_id: str) -> None:
        await self._transport.request("oa_subscribe", fs.AccountIdReq(account_id=account_id), Empty)

    async def unsubscribe(self, account_id: str) -> None:
        req = fs.AccountIdReq(account_id=account_id)
        await self._transport.request("oa_unsubscribe", req, Empty)

    async def accounts(self, account_ids: list[str] | None = None) -> list[fs.AccountResult]:
        req = fs.AccountsReq(account_ids=account_ids or [])
        return (await self._transport.request("oa_info", req, fs.AccountsRes)).results
