"""Friendship: friend lists, applications, the blacklist, friend groups, follows and official
accounts. Decisions are the pure rules of ``protocol.rules.friends``, taken inside the writing
transaction on the rows it reads, so two devices acting at once cannot both win.

A friend's remark is the ``conv_show_name`` of the C2C conversation (rows.py joins it), so a
write that changes a remark (adding, deleting, modifying a friend) moves that conversation's
change position: every device syncs the new name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import msgspec

from opentim.protocol import Profile
from opentim.protocol.friendship import (
    AccountResult,
    Application,
    CustomField,
    Friend,
    FriendGroup,
    OfficialAccount,
)
from opentim.protocol.rules.friends import (
    AddFacts,
    AddOutcome,
    FriendType,
    PendencyType,
    add_decision,
    answer_adds,
)

from ..engine import Engine
from ..sql import Op, execute, many, row, rows, value
from ..writes import WriteTx

_json = msgspec.json.Encoder()
_profile = msgspec.json.Decoder(Profile)
_custom = msgspec.json.Decoder(list[CustomField])

FRIEND_COLS = "f.friend_id, f.remark, f.custom, f.add_source, f.add_wording, f.add_time, u.profile"
FRIEND_FROM = "FROM friends f LEFT JOIN users u ON u.user_id = f.friend_id"
ACCOUNT_COLS = (
    "a.account_id, a.name, a.face_url, a.owner, a.introduction, a.organization, "
    "a.custom_data, a.create_time, "
    "(SELECT count(*) FROM official_subscriptions s WHERE s.account_id = a.account_id)"
)


def _friend(r: tuple[object, ...], groups: list[str]) -> Friend:
    return Friend(
        user_id=str(r[0]),
        remark=str(r[1]),
        custom=_custom.decode(str(r[2])) if r[2] != "{}" else [],
        add_source=str(r[3]),
        add_wording=str(r[4]),
        add_time=int(r[5]),  # type: ignore[call-overload]
        profile=_profile.decode(str(r[6])) if r[6] else Profile(user_id=str(r[0])),
        groups=groups,
    )


def _account(r: tuple[object, ...], subscribe_time: int = 0) -> OfficialAccount:
    return OfficialAccount(
        account_id=str(r[0]),
        name=str(r[1]),
        face_url=str(r[2]),
        owner=str(r[3]),
        introduction=str(r[4]),
        organization=str(r[5]),
        custom_data=str(r[6]),
        create_time=int(r[7]),  # type: ignore[call-overload]
        subscriber_count=int(r[8]),  # type: ignore[call-overload]
        subscribe_time=subscribe_time,
    )


def friends_of(user_id: str, ids: list[str] | None = None) -> Op[list[Friend]]:
    if ids is None:
        found = yield rows(
            f"SELECT {FRIEND_COLS} {FRIEND_FROM} WHERE f.user_id = ? ORDER BY f.add_time, "
            "f.friend_id",
            user_id,
        )
    else:
        found = yield rows(
            f"SELECT {FRIEND_COLS} {FRIEND_FROM} WHERE f.user_id = ? AND f.friend_id = ANY(?)",
            user_id,
            ids,
        )
    items = yield rows(
        "SELECT friend_id, name FROM friend_group_items WHERE user_id = ? ORDER BY name", user_id
    )
    groups: dict[str, list[str]] = {}
    for friend_id, name in items:
        groups.setdefault(friend_id, []).append(name)
    return [_friend(r, groups.get(str(r[0]), [])) for r in found]


def _has(user_id: str, ids: list[str]) -> Op[set[str]]:
    """Which of ``ids`` are in ``user_id``'s friend list."""
    found = yield rows(
        "SELECT friend_id FROM friends WHERE user_id = ? AND friend_id = ANY(?)", user_id, ids
    )
    return {r[0] for r in found}


def _have_me(user_id: str, ids: list[str]) -> Op[set[str]]:
    """Which of ``ids`` have ``user_id`` in their friend list."""
    found = yield rows(
        "SELECT user_id FROM friends WHERE friend_id = ? AND user_id = ANY(?)", user_id, ids
    )
    return {r[0] for r in found}


def _touch_c2c(tx: WriteTx, pairs: Iterable[tuple[str, str]]) -> Op[None]:
    """Move the change position of each ``(user, peer)`` C2C conversation (its show name may
    have changed); a conversation that does not exist is left alone."""
    updates = [(tx.tick(), u, p) for u, p in pairs]
    if updates:
        yield many(
            "UPDATE conversations SET changed = ? WHERE user_id = ? AND conv_type = 1 "
            "AND conv_id = ?",
            updates,
        )


@dataclass
class AddResult:
    """What adding friends did: per-user codes, and who now has whom."""

    codes: dict[str, int] = field(default_factory=dict)
    added: list[tuple[str, str]] = field(default_factory=list)
    """``(owner, friend)``: ``friend`` entered ``owner``'s list."""
    applied: list[str] = field(default_factory=list)
    """Targets that got an application."""
    withdrawn: list[tuple[str, str]] = field(default_factory=list)
    """``(user, applicant)`` applications settled by the friendship."""


class Friends:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- reads --------------------------------------------------------------------------
    async def friends(self, user_id: str, ids: list[str] | None = None) -> list[Friend]:
        return await self.engine.read(lambda: friends_of(user_id, ids))

    async def holders(self, user_id: str) -> list[str]:
        """The users who have ``user_id`` as a friend (they hear of its profile changes)."""

        def read() -> Op[list[str]]:
            found = yield rows(
                "SELECT user_id FROM friends WHERE friend_id = ? ORDER BY user_id", user_id
            )
            return [r[0] for r in found]

        return await self.engine.read(read)

    async def relations(self, user_id: str, ids: list[str]) -> tuple[set[str], set[str]]:
        """(which of ``ids`` I have, which of ``ids`` have me)."""

        def read() -> Op[tuple[set[str], set[str]]]:
            mine = yield from _has(user_id, ids)
            theirs = yield from _have_me(user_id, ids)
            return mine, theirs

        return await self.engine.read(read) if ids else (set(), set())

    async def blocked_ids(self, user_id: str) -> list[str]:
        """The ids in ``user_id``'s blacklist (the send path's check, cached by the service)."""

        def read() -> Op[list[str]]:
            found = yield rows("SELECT blocked_id FROM blacklist WHERE user_id = ?", user_id)
            return [r[0] for r in found]

        return await self.engine.read(read)

    async def is_blocked(self, user_id: str, by: str) -> bool:
        """Whether ``by`` has ``user_id`` in their blacklist."""

        def read() -> Op[bool]:
            found = yield value(
                "SELECT 1 FROM blacklist WHERE user_id = ? AND blocked_id = ?", by, user_id
            )
            return found is not None

        return await self.engine.read(read)

    async def blacklist(self, user_id: str) -> list[tuple[str, int, Profile | None]]:
        def read() -> Op[list[tuple[str, int, Profile | None]]]:
            found = yield rows(
                "SELECT b.blocked_id, b.add_time, u.profile FROM blacklist b "
                "LEFT JOIN users u ON u.user_id = b.blocked_id WHERE b.user_id = ? "
                "ORDER BY b.add_time, b.blocked_id",
                user_id,
            )
            return [(r[0], r[1], _profile.decode(r[2]) if r[2] else None) for r in found]

        return await self.engine.read(read)

    async def applications(
        self, user_id: str, kind: int, limit: int
    ) -> tuple[list[Application], int, list[int]]:
        """Applications to and/or from me, newest first; my read time; the add times of those
        to me (for the unread count)."""

        def read() -> Op[tuple[list[Application], int, list[int]]]:
            out: list[Application] = []
            found = yield rows(
                "SELECT a.user_id, a.applicant, a.add_source, a.add_wording, a.add_time, "
                "u.profile FROM friend_applications a LEFT JOIN users u ON u.user_id = "
                "(CASE WHEN a.user_id = ? THEN a.applicant ELSE a.user_id END) "
                "WHERE a.user_id = ? OR a.applicant = ? ORDER BY a.add_time DESC",
                user_id,
                user_id,
                user_id,
            )
            incoming_times: list[int] = []
            for r in found:
                incoming = r[0] == user_id
                if incoming:
                    incoming_times.append(r[4])
                side = PendencyType.COME_IN if incoming else PendencyType.SEND_OUT
                if kind not in (side, PendencyType.BOTH):
                    continue
                p = _profile.decode(r[5]) if r[5] else None
                out.append(
                    Application(
                        user_id=r[1] if incoming else r[0],
                        type=side,
                        add_source=r[2],
                        add_wording=r[3],
                        add_time=r[4],
                        nick=p.nick if p else "",
                        face_url=p.face_url if p else "",
                    )
                )
            read_time = yield value("SELECT read_time FROM friend_reads WHERE user_id = ?", user_id)
            return out[:limit], read_time or 0, incoming_times

        return await self.engine.read(read)

    async def friend_groups(
        self, user_id: str, names: list[str] | None = None
    ) -> list[FriendGroup]:
        def read() -> Op[list[FriendGroup]]:
            found = yield rows(
                "SELECT name FROM friend_groups WHERE user_id = ? ORDER BY created, name", user_id
            )
            items = yield rows(
                "SELECT name, friend_id FROM friend_group_items WHERE user_id = ? "
                "ORDER BY friend_id",
                user_id,
            )
            groups = {r[0]: FriendGroup(name=r[0]) for r in found}
            for name, friend_id in items:
                if name in groups:
                    groups[name].user_ids.append(friend_id)
            return [g for n, g in groups.items() if names is None or n in names]

        return await self.engine.read(read)

    async def follow_flags(self, user_id: str, ids: list[str]) -> tuple[set[str], set[str]]:
        """(which of ``ids`` I follow, which of ``ids`` follow me)."""

        def read() -> Op[tuple[set[str], set[str]]]:
            mine = yield rows(
                "SELECT target_id FROM follows WHERE user_id = ? AND target_id = ANY(?)",
                user_id,
                ids,
            )
            theirs = yield rows(
                "SELECT user_id FROM follows WHERE target_id = ? AND user_id = ANY(?)",
                user_id,
                ids,
            )
            return {r[0] for r in mine}, {r[0] for r in theirs}

        return await self.engine.read(read) if ids else (set(), set())

    async def follow_page(self, user_id: str, kind: int, after: str, limit: int) -> list[Profile]:
        """Users I follow (0), who follow me (1), or both (2), by id after ``after``."""
        if kind == 0:
            sql = (
                "SELECT f.target_id, u.profile FROM follows f LEFT JOIN users u "
                "ON u.user_id = f.target_id WHERE f.user_id = ? AND f.target_id > ? "
                "ORDER BY f.target_id LIMIT ?"
            )
        elif kind == 1:
            sql = (
                "SELECT f.user_id, u.profile FROM follows f LEFT JOIN users u "
                "ON u.user_id = f.user_id WHERE f.target_id = ? AND f.user_id > ? "
                "ORDER BY f.user_id LIMIT ?"
            )
        else:
            sql = (
                "SELECT f.target_id, u.profile FROM follows f JOIN follows g "
                "ON g.user_id = f.target_id AND g.target_id = f.user_id LEFT JOIN users u "
                "ON u.user_id = f.target_id WHERE f.user_id = ? AND f.target_id > ? "
                "ORDER BY f.target_id LIMIT ?"
            )

        def read() -> Op[list[Profile]]:
            found = yield rows(sql, user_id, after, limit)
            return [_profile.decode(r[1]) if r[1] else Profile(user_id=r[0]) for r in found]

        return await self.engine.read(read)

    async def follow_counts(self, ids: list[str]) -> dict[str, tuple[int, int, int]]:
        def read() -> Op[dict[str, tuple[int, int, int]]]:
            out = {}
            for user_id in ids:
                counts = yield row(
                    "SELECT (SELECT count(*) FROM follows WHERE user_id = ?), "
                    "(SELECT count(*) FROM follows WHERE target_id = ?), "
                    "(SELECT count(*) FROM follows f JOIN follows g ON g.user_id = f.target_id "
                    "AND g.target_id = f.user_id WHERE f.user_id = ?)",
                    user_id,
                    user_id,
                    user_id,
                )
                out[user_id] = (counts[0], counts[1], counts[2])
            return out

        return await self.engine.read(read)

    async def accounts(self, user_id: str, ids: list[str]) -> list[AccountResult]:
        """Official accounts by id (none: those ``user_id`` subscribes to)."""

        def read() -> Op[list[AccountResult]]:
            subs = yield rows(
                "SELECT account_id, subscribe_time FROM official_subscriptions WHERE user_id = ?",
                user_id,
            )
            since = {r[0]: r[1] for r in subs}
            wanted = ids or sorted(since)
            found = yield rows(
                f"SELECT {ACCOUNT_COLS} FROM official_accounts a WHERE a.account_id = ANY(?)",
                wanted,
            )
            by_id = {r[0]: _account(r, since.get(r[0], 0)) for r in found}
            return [
                AccountResult(account_id=i, account=by_id[i])
                if i in by_id
                else AccountResult(account_id=i, code=-1)
                for i in wanted
            ]

        return await self.engine.read(read)

    async def subscribers(self, account_id: str) -> list[str]:
        def read() -> Op[list[str]]:
            found = yield rows(
                "SELECT user_id FROM official_subscriptions WHERE account_id = ?", account_id
            )
            return [r[0] for r in found]

        return await self.engine.read(read)

    # --- friends --------------------------------------------------------------------------
    async def add_friend(
        self,
        user_id: str,
        target: str,
        add_type: int,
        remark: str,
        group_name: str,
        add_source: str,
        add_wording: str,
        now: int,
    ) -> AddResult:
        """Add ``target`` as the target's add permission allows (``add_decision``)."""

        def write(tx: WriteTx) -> Op[AddResult]:
            out = AddResult()
            profile_text = yield value(
                "SELECT profile FROM users WHERE user_id = ? FOR UPDATE", target
            )
            profile = _profile.decode(profile_text) if profile_text else None
            mine = yield from _has(user_id, [target])
            theirs = yield from _have_me(user_id, [target])
            blocks = yield rows(
                "SELECT user_id FROM blacklist WHERE (user_id = ? AND blocked_id = ?) "
                "OR (user_id = ? AND blocked_id = ?)",
                user_id,
                target,
                target,
                user_id,
            )
            blockers = {r[0] for r in blocks}
            facts = AddFacts(
                is_self=target == user_id,
                target_exists=profile is not None,
                already_friend=target in mine,
                target_has_me=target in theirs,
                i_blocked_target=user_id in blockers,
                target_blocked_me=target in blockers,
                permission=profile.add_permission if profile else 0,
            )
            outcome, code = add_decision(facts)
            out.codes[target] = code
            if outcome == AddOutcome.ADDED:
                yield from _befriend(
                    tx, user_id, target, remark, group_name, add_source, add_wording, now
                )
                out.added.append((user_id, target))
                if add_type == FriendType.BOTH and target not in theirs:
                    yield from _befriend(tx, target, user_id, "", "", add_source, add_wording, now)
                    out.added.append((target, user_id))
                settled = yield from _settle(user_id, target)
                out.withdrawn.extend(settled)
            elif outcome == AddOutcome.PENDING:
                yield execute(
                    "INSERT INTO friend_applications (user_id, applicant, add_type, remark, "
                    "group_name, add_source, add_wording, add_time) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (user_id, applicant) DO UPDATE SET add_type = excluded.add_type, "
                    "remark = excluded.remark, group_name = excluded.group_name, "
                    "add_source = excluded.add_source, add_wording = excluded.add_wording, "
                    "add_time = excluded.add_time",
                    target,
                    user_id,
                    add_type,
                    remark,
                    group_name,
                    add_source,
                    add_wording,
                    now,
                )
                out.applied.append(target)
            return out

        return await self.engine.write(write)

    async def answer(
        self, user_id: str, applicant: str, action: int, remark: str, group_name: str, now: int
    ) -> AddResult | None:
        """Answer ``applicant``'s application (None: there is none)."""

        def write(tx: WriteTx) -> Op[AddResult | None]:
            app = yield row(
                "SELECT remark, group_name, add_source, add_wording FROM friend_applications "
                "WHERE user_id = ? AND applicant = ? FOR UPDATE",
                user_id,
                applicant,
            )
            if app is None:
                return None
            out = AddResult(codes={applicant: 0})
            yield execute(
                "DELETE FROM friend_applications WHERE user_id = ? AND applicant = ?",
                user_id,
                applicant,
            )
            out.withdrawn.append((user_id, applicant))
            they_get_me, i_get_them = answer_adds(action)
            has = yield from _has(applicant, [user_id])
            if they_get_me and not has:
                yield from _befriend(tx, applicant, user_id, app[0], app[1], app[2], app[3], now)
                out.added.append((applicant, user_id))
            mine = yield from _has(user_id, [applicant])
            if i_get_them and not mine:
                yield from _befriend(tx, user_id, applicant, remark, group_name, app[2], "", now)
                out.added.append((user_id, applicant))
            return out

        return await self.engine.write(write)

    async def delete_friends(
        self, user_id: str, ids: list[str], both: bool
    ) -> tuple[dict[str, int], list[tuple[str, str]]]:
        """Remove ``ids`` from my list (and me from theirs, ``both``): per-id whether it was
        there, and the ``(owner, friend)`` entries removed."""

        def write(tx: WriteTx) -> Op[tuple[dict[str, int], list[tuple[str, str]]]]:
            mine = yield from _has(user_id, ids)
            removed = [(user_id, f) for f in ids if f in mine]
            if both:
                theirs = yield from _have_me(user_id, ids)
                removed += [(f, user_id) for f in ids if f in theirs]
            for owner, friend in removed:
                yield from _unfriend(owner, friend)
            yield from _touch_c2c(tx, removed)
            return {f: int(f in mine) for f in ids}, removed

        return await self.engine.write(write)

    async def modify_friend(
        self,
        user_id: str,
        friend_id: str,
        remark: str | None,
        groups: list[str] | None,
        custom: list[CustomField] | None,
        now: int,
    ) -> Friend | None:
        """Change my entry for a friend (None: not my friend); named groups that do not exist
        are created."""

        def write(tx: WriteTx) -> Op[Friend | None]:
            mine = yield from _has(user_id, [friend_id])
            if not mine:
                return None
            if remark is not None:
                yield execute(
                    "UPDATE friends SET remark = ? WHERE user_id = ? AND friend_id = ?",
                    remark,
                    user_id,
                    friend_id,
                )
                yield from _touch_c2c(tx, [(user_id, friend_id)])
            if custom is not None:
                yield execute(
                    "UPDATE friends SET custom = ? WHERE user_id = ? AND friend_id = ?",
                    _json.encode(custom).decode(),
                    user_id,
                    friend_id,
                )
            if groups is not None:
                yield execute(
                    "DELETE FROM friend_group_items WHERE user_id = ? AND friend_id = ?",
                    user_id,
                    friend_id,
                )
                yield from _ensure_groups(user_id, groups, now)
                yield from _into_groups(tx, user_id, groups, [friend_id])
            found = yield from friends_of(user_id, [friend_id])
            return found[0]

        return await self.engine.write(write)

    async def delete_applications(self, user_id: str, kind: int, ids: list[str]) -> list[str]:
        """Delete applications to me (``COME_IN``) or mine to them; the ids that had one."""

        def write(tx: WriteTx) -> Op[list[str]]:
            if kind == PendencyType.SEND_OUT:
                found = yield rows(
                    "SELECT user_id FROM friend_applications WHERE applicant = ? "
                    "AND user_id = ANY(?)",
                    user_id,
                    ids,
                )
                yield execute(
                    "DELETE FROM friend_applications WHERE applicant = ? AND user_id = ANY(?)",
                    user_id,
                    ids,
                )
            else:
                found = yield rows(
                    "SELECT applicant FROM friend_applications WHERE user_id = ? "
                    "AND applicant = ANY(?)",
                    user_id,
                    ids,
                )
                yield execute(
                    "DELETE FROM friend_applications WHERE user_id = ? AND applicant = ANY(?)",
                    user_id,
                    ids,
                )
            return [r[0] for r in found]

        return await self.engine.write(write)

    async def report_read(self, user_id: str, time: int) -> None:
        def write(tx: WriteTx) -> Op[None]:
            yield execute(
                "INSERT INTO friend_reads (user_id, read_time) VALUES (?, ?) ON CONFLICT "
                "(user_id) DO UPDATE SET read_time = GREATEST(friend_reads.read_time, "
                "excluded.read_time)",
                user_id,
                time,
            )

        await self.engine.write(write)

    # --- blacklist ------------------------------------------------------------------------
    async def block(
        self, user_id: str, ids: list[str], now: int
    ) -> tuple[list[str], list[tuple[str, str]]]:
        """Block ``ids`` (known users only): the ids newly blocked, and the ``(owner, friend)``
        entries removed, blocking ending the friendship both ways as Tencent's does."""

        def write(tx: WriteTx) -> Op[tuple[list[str], list[tuple[str, str]]]]:
            known = yield rows("SELECT user_id FROM users WHERE user_id = ANY(?)", ids)
            exists = {r[0] for r in known}
            had = yield rows(
                "SELECT blocked_id FROM blacklist WHERE user_id = ? AND blocked_id = ANY(?)",
                user_id,
                ids,
            )
            new = [i for i in ids if i in exists and i not in {r[0] for r in had}]
            yield many(
                "INSERT INTO blacklist (user_id, blocked_id, add_time) VALUES (?, ?, ?)",
                [(user_id, i, now) for i in new],
            )
            mine = yield from _has(user_id, new)
            theirs = yield from _have_me(user_id, new)
            removed = [(user_id, f) for f in new if f in mine]
            removed += [(f, user_id) for f in new if f in theirs]
            for owner, friend in removed:
                yield from _unfriend(owner, friend)
            yield from _touch_c2c(tx, removed)
            return new, removed

        return await self.engine.write(write)

    async def unblock(self, user_id: str, ids: list[str]) -> list[str]:
        def write(tx: WriteTx) -> Op[list[str]]:
            had = yield rows(
                "SELECT blocked_id FROM blacklist WHERE user_id = ? AND blocked_id = ANY(?)",
                user_id,
                ids,
            )
            yield execute(
                "DELETE FROM blacklist WHERE user_id = ? AND blocked_id = ANY(?)", user_id, ids
            )
            return [r[0] for r in had]

        return await self.engine.write(write)

    # --- friend groups ----------------------------------------------------------------------
    async def create_groups(
        self, user_id: str, names: list[str], ids: list[str], now: int, max_groups: int
    ) -> tuple[list[str], list[str]] | None:
        """Create the groups holding those of ``ids`` that are my friends: (created, members);
        None when that would make more than ``max_groups``."""

        def write(tx: WriteTx) -> Op[tuple[list[str], list[str]] | None]:
            have = yield rows("SELECT name FROM friend_groups WHERE user_id = ?", user_id)
            existing = {r[0] for r in have}
            new = [n for n in dict.fromkeys(names) if n not in existing]
            if len(existing) + len(new) > max_groups:
                return None
            yield many(
                "INSERT INTO friend_groups (user_id, name, created) VALUES (?, ?, ?)",
                [(user_id, n, now) for n in new],
            )
            members = yield from _into_groups(tx, user_id, new, ids)
            return new, members

        return await self.engine.write(write)

    async def delete_groups(self, user_id: str, names: list[str]) -> list[str]:
        def write(tx: WriteTx) -> Op[list[str]]:
            have = yield rows(
                "SELECT name FROM friend_groups WHERE user_id = ? AND name = ANY(?)",
                user_id,
                names,
            )
            yield execute(
                "DELETE FROM friend_groups WHERE user_id = ? AND name = ANY(?)", user_id, names
            )
            yield execute(
                "DELETE FROM friend_group_items WHERE user_id = ? AND name = ANY(?)",
                user_id,
                names,
            )
            return [r[0] for r in have]

        return await self.engine.write(write)

    async def change_group(
        self, user_id: str, name: str, new_name: str, add: list[str], remove: list[str]
    ) -> tuple[list[str], list[str]] | None:
        """Rename group ``name`` (``new_name`` not empty), add friends, remove members:
        (added, removed), or None when there is no such group or the new name is taken."""

        def write(tx: WriteTx) -> Op[tuple[list[str], list[str]] | None]:
            found = yield value(
                "SELECT 1 FROM friend_groups WHERE user_id = ? AND name = ? FOR UPDATE",
                user_id,
                name,
            )
            if found is None:
                return None
            target = name
            if new_name and new_name != name:
                taken = yield value(
                    "SELECT 1 FROM friend_groups WHERE user_id = ? AND name = ?", user_id, new_name
                )
                if taken:
                    return None
                for table in ("friend_groups", "friend_group_items"):
                    yield execute(
                        f"UPDATE {table} SET name = ? WHERE user_id = ? AND name = ?",
                        new_name,
                        user_id,
                        name,
                    )
                target = new_name
            had = yield rows(
                "SELECT friend_id FROM friend_group_items WHERE user_id = ? AND name = ? "
                "AND friend_id = ANY(?)",
                user_id,
                target,
                remove,
            )
            yield execute(
                "DELETE FROM friend_group_items WHERE user_id = ? AND name = ? "
                "AND friend_id = ANY(?)",
                user_id,
                target,
                remove,
            )
            added = yield from _into_groups(tx, user_id, [target], add)
            return added, [r[0] for r in had]

        return await self.engine.write(write)

    # --- follows ------------------------------------------------------------------------------
    async def follow(
        self, user_id: str, ids: list[str], on: bool, now: int
    ) -> tuple[dict[str, int], list[str], list[str]]:
        """Follow (``on``) or unfollow ``ids``: per-id codes (-1 no such user), those changed,
        and those of them who follow me (the mutual list changed with them)."""

        def write(tx: WriteTx) -> Op[tuple[dict[str, int], list[str], list[str]]]:
            known = yield rows("SELECT user_id FROM users WHERE user_id = ANY(?)", ids)
            exists = {r[0] for r in known}
            had = yield rows(
                "SELECT target_id FROM follows WHERE user_id = ? AND target_id = ANY(?)",
                user_id,
                ids,
            )
            following = {r[0] for r in had}
            back = yield rows(
                "SELECT user_id FROM follows WHERE target_id = ? AND user_id = ANY(?)",
                user_id,
                ids,
            )
            followers = {r[0] for r in back}
            codes: dict[str, int] = {}
            changed: list[str] = []
            for i in dict.fromkeys(ids):
                if i not in exists or i == user_id:
                    codes[i] = -1
                    continue
                codes[i] = 0
                if on != (i in following):
                    changed.append(i)
            if on:
                yield many(
                    "INSERT INTO follows (user_id, target_id, follow_time) VALUES (?, ?, ?)",
                    [(user_id, i, now) for i in changed],
                )
            else:
                yield execute(
                    "DELETE FROM follows WHERE user_id = ? AND target_id = ANY(?)", user_id, changed
                )
            return codes, changed, [i for i in changed if i in followers]

        return await self.engine.write(write)

    # --- official accounts ----------------------------------------------------------------------
    async def put_account(self, account: OfficialAccount) -> None:
        """Create or change an official account (an administrator's act)."""

        def write(tx: WriteTx) -> Op[None]:
            yield execute(
                "INSERT INTO official_accounts (account_id, name, face_url, owner, introduction, "
                "organization, custom_data, create_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (account_id) DO UPDATE SET name = excluded.name, "
                "face_url = excluded.face_url, owner = excluded.owner, "
                "introduction = excluded.introduction, organization = excluded.organization, "
                "custom_data = excluded.custom_data",
                account.account_id,
                account.name,
                account.face_url,
                account.owner,
                account.introduction,
                account.organization,
                account.custom_data,
                account.create_time,
            )

        await self.engine.write(write)

    async def delete_account(self, account_id: str) -> list[str]:
        """Delete an official account; its subscribers."""

        def write(tx: WriteTx) -> Op[list[str]]:
            subs = yield rows(
                "SELECT user_id FROM official_subscriptions WHERE account_id = ?", account_id
            )
            yield execute("DELETE FROM official_subscriptions WHERE account_id = ?", account_id)
            yield execute("DELETE FROM official_accounts WHERE account_id = ?", account_id)
            return [r[0] for r in subs]

        return await self.engine.write(write)

    async def subscribe(self, user_id: str, account_id: str, on: bool, now: int) -> bool | None:
        """(Un)subscribe; None when there is no such account, else whether anything changed."""

        def write(tx: WriteTx) -> Op[bool | None]:
            exists = yield value("SELECT 1 FROM official_accounts WHERE account_id = ?", account_id)
            if exists is None:
                return None
            had = yield value(
                "SELECT 1 FROM official_subscriptions WHERE account_id = ? AND user_id = ?",
                account_id,
                user_id,
            )
            if on and had is None:
                yield execute(
                    "INSERT INTO official_subscriptions (account_id, user_id, subscribe_time) "
                    "VALUES (?, ?, ?)",
                    account_id,
                    user_id,
                    now,
                )
                return True
            if not on and had is not None:
                yield execute(
                    "DELETE FROM official_subscriptions WHERE account_id = ? AND user_id = ?",
                    account_id,
                    user_id,
                )
                return True
            return False

        return await self.engine.write(write)


def _befriend(
    tx: WriteTx,
    owner: str,
    friend: str,
    remark: str,
    group_name: str,
    add_source: str,
    add_wording: str,
    now: int,
) -> Op[None]:
    yield execute(
        "INSERT INTO friends (user_id, friend_id, remark, add_source, add_wording, add_time) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        owner,
        friend,
        remark,
        add_source,
        add_wording,
        now,
    )
    if group_name:
        yield from _ensure_groups(owner, [group_name], now)
        yield from _into_groups(tx, owner, [group_name], [friend])
    yield from _touch_c2c(tx, [(owner, friend)])


def _ensure_groups(owner: str, names: list[str], now: int) -> Op[None]:
    """Create those of the friend groups ``names`` that ``owner`` does not have."""
    yield many(
        "INSERT INTO friend_groups (user_id, name, created) VALUES (?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        [(owner, n, now) for n in names],
    )


def _unfriend(owner: str, friend: str) -> Op[None]:
    yield execute("DELETE FROM friends WHERE user_id = ? AND friend_id = ?", owner, friend)
    yield execute(
        "DELETE FROM friend_group_items WHERE user_id = ? AND friend_id = ?", owner, friend
    )


def _settle(a: str, b: str) -> Op[list[tuple[str, str]]]:
    """Drop applications between ``a`` and ``b`` once they are friends; the ones dropped."""
    found = yield rows(
        "SELECT user_id, applicant FROM friend_applications WHERE (user_id = ? AND applicant = ?) "
        "OR (user_id = ? AND applicant = ?)",
        a,
        b,
        b,
        a,
    )
    yield execute(
        "DELETE FROM friend_applications WHERE (user_id = ? AND applicant = ?) "
        "OR (user_id = ? AND applicant = ?)",
        a,
        b,
        b,
        a,
    )
    return [(r[0], r[1]) for r in found]


def _into_groups(tx: WriteTx, owner: str, names: list[str], ids: list[str]) -> Op[list[str]]:
    """Put those of ``ids`` that are ``owner``'s friends into each existing group of
    ``names``; the friends put."""
    if not names or not ids:
        return []
    friends = yield from _has(owner, ids)
    groups = yield rows(
        "SELECT name FROM friend_groups WHERE user_id = ? AND name = ANY(?)", owner, names
    )
    members = [i for i in dict.fromkeys(ids) if i in friends]
    yield many(
        "INSERT INTO friend_group_items (user_id, name, friend_id) VALUES (?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        [(owner, g[0], i) for g in groups for i in members],
    )
    return members
