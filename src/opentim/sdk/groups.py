"""GroupManager: create, dismiss, join, quit, invite, kick, and the joined-group list."""

from __future__ import annotations

from opentim.protocol import GroupInfo, GroupType, MemberResult
from opentim.protocol.ops import (
    Empty,
    GroupCreateReq,
    GroupIdReq,
    GroupIdRes,
    GroupJoinedReq,
    GroupJoinReq,
    GroupListRes,
    GroupMembersReq,
    MemberResultsRes,
)

from .transport import Transport


class GroupManager:
    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def create(
        self,
        name: str,
        group_type: int = GroupType.PUBLIC,
        *,
        group_id: str = "",
        add_option: int | None = None,
        members: list[str] | None = None,
        face_url: str = "",
        introduction: str = "",
        notification: str = "",
    ) -> str:
        """Create a group with the caller as owner; returns its id (generated when not given)."""
        req = GroupCreateReq(
            name=name,
            group_id=group_id,
            group_type=group_type,
            add_option=add_option,
            members=members or [],
            face_url=face_url,
            introduction=introduction,
            notification=notification,
        )
        return (await self._transport.request("group_create", req, GroupIdRes)).group_id

    async def delete(self, group_id: str) -> None:
        await self._transport.request("group_delete", GroupIdReq(group_id=group_id), Empty)

    async def join(self, group_id: str, hello: str = "") -> None:
        await self._transport.request(
            "group_join", GroupJoinReq(group_id=group_id, hello=hello), Empty
        )

    async def quit(self, group_id: str) -> None:
        await self._transport.request("group_quit", GroupIdReq(group_id=group_id), Empty)

    async def invite(self, group_id: str, user_ids: list[str]) -> list[MemberResult]:
        req = GroupMembersReq(group_id=group_id, user_ids=user_ids)
        return (await self._transport.request("group_invite", req, MemberResultsRes)).results

    async def kick(self, group_id: str, user_ids: list[str]) -> list[MemberResult]:
        req = GroupMembersReq(group_id=group_id, user_ids=user_ids)
        return (await self._transport.request("group_kick", req, MemberResultsRes)).results

    async def joined(self) -> list[GroupInfo]:
        """Every group the user is in, in the order of joining (asked page by page: the server
        pages the answer by bytes)."""
        groups: list[GroupInfo] = []
        req = GroupJoinedReq()
        while True:
            res = await self._transport.request("group_joined", req, GroupListRes)
            groups += res.groups
            if not res.more or not res.groups:
                return groups
            last = res.groups[-1]
            req = GroupJoinedReq(after_time=last.self_join_time, after_id=last.group_id)
