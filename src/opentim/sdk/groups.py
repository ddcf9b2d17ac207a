"""GroupManager: create, dismiss, join, quit, invite, kick, the joined-group list, group and
member info, and join applications."""

from __future__ import annotations

from opentim.protocol import GroupInfo, GroupType, MemberInfo, MemberResult
from opentim.protocol.ops import (
    Empty,
    GroupCreateReq,
    GroupIdReq,
    GroupIdRes,
    GroupInfoReq,
    GroupInfoRes,
    GroupInfoResult,
    GroupJoinedReq,
    GroupJoinReq,
    GroupListRes,
    GroupMembersReq,
    GroupModifyReq,
    MemberListReq,
    MemberListRes,
    MemberModifyReq,
    MemberResultsRes,
    PendencyHandleReq,
    PendencyListReq,
    PendencyListRes,
    PendencyReadReq,
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

    async def info(self, group_ids: list[str]) -> list[GroupInfoResult]:
        """Each group's info, or why not (per group: 10010 unknown, 10007 a Work group one is
        not in)."""
        res = await self._transport.request(
            "group_info", GroupInfoReq(group_ids=group_ids), GroupInfoRes
        )
        return res.results

    async def modify(self, req: GroupModifyReq) -> None:
        """Change a group's info (the fields ``req.flags`` names)."""
        await self._transport.request("group_modify", req, Empty)

    async def members(
        self,
        group_id: str,
        *,
        user_ids: list[str] | None = None,
        role_flag: int = 0,
        next_seq: int = 0,
    ) -> tuple[list[MemberInfo], int]:
        """A page of members (by role, after ``next_seq``) or the named ones; and where the
        next page starts (0: none)."""
        req = MemberListReq(
            group_id=group_id, user_ids=user_ids or [], role_flag=role_flag, next_seq=next_seq
        )
        res = await self._transport.request("group_members", req, MemberListRes)
        return res.members, res.next_seq

    async def modify_member(self, req: MemberModifyReq) -> None:
        """Change a member's info (the fields ``req.flags`` names)."""
        await self._transport.request("group_member_modify", req, Empty)

    async def pendencies(self, start: int = 0, limit: int = 0) -> PendencyListRes:
        """Join applications and invitations the user sent or may handle, newest first."""
        req = PendencyListReq(start=start, limit=limit)
        return await self._transport.request("group_pendencies", req, PendencyListRes)

    async def handle_pendency(self, req: PendencyHandleReq) -> None:
        """Accept or refuse an application or invitation."""
        await self._transport.request("group_pendency_handle", req, Empty)

    async def read_pendencies(self, time: int) -> None:
        """Applications added up to ``time`` are read."""
        await self._transport.request("group_pendency_read", PendencyReadReq(time=time), Empty)
