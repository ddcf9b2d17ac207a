"""The schema, as numbered migrations in portable SQL (one history; DESIGN §5).

Each step runs once, in order, recorded in ``meta.schema_version``. Keep statements portable
between SQLite and PostgreSQL: TEXT/BIGINT columns, no engine-specific types.
"""

from __future__ import annotations

from typing import Final

_NOT_SECONDS = "draft_time > 4294967295"
_TICKS_AT_1970 = 621_355_968_000_000_000
""".NET ticks (100 ns since 0001-01-01) at the Unix epoch."""

LEGACY_DRAFT_TIMES: Final[list[str]] = [
    # Releases before drafts were stamped by the SDK stored the app's draft_edit_time, so a
    # draft stamped in milliseconds, microseconds or .NET ticks (as Tencent's Unity samples do)
    # held against every later edit. Turn such stamps into seconds (or 0 when that makes no
    # sense), and move those conversations on the clock so devices sync the corrected drafts.
    "UPDATE conversations SET changed = (SELECT value FROM meta WHERE key = 'clock') + 1 "
    f"WHERE {_NOT_SECONDS}",
    "UPDATE meta SET value = value + 1 WHERE key = 'clock' "
    f"AND EXISTS (SELECT 1 FROM conversations WHERE {_NOT_SECONDS})",
    "UPDATE conversations SET draft_time = CASE "
    f"WHEN draft_time >= {_TICKS_AT_1970} THEN (draft_time - {_TICKS_AT_1970}) / 10000000 "
    "WHEN draft_time >= 100000000000000 THEN draft_time / 1000000 "
    f"ELSE draft_time / 1000 END WHERE {_NOT_SECONDS}",
    f"UPDATE conversations SET draft_time = 0 WHERE {_NOT_SECONDS} OR draft_time < 0",
]
"""Migration 4: drafts stored with a stamp that is not UTC seconds."""

FRIENDSHIP: Final[list[str]] = [
    # One row per direction: (A, B) means B is in A's friend list.
    """CREATE TABLE friends (
        user_id TEXT NOT NULL,
        friend_id TEXT NOT NULL,
        remark TEXT NOT NULL DEFAULT '',
        custom TEXT NOT NULL DEFAULT '{}',
        add_source TEXT NOT NULL DEFAULT '',
        add_wording TEXT NOT NULL DEFAULT '',
        add_time BIGINT NOT NULL,
        PRIMARY KEY (user_id, friend_id)
    )""",
    "CREATE INDEX friends_friend ON friends (friend_id)",
    # An application from applicant to user_id, waiting for user_id's answer.
    """CREATE TABLE friend_applications (
        user_id TEXT NOT NULL,
        applicant TEXT NOT NULL,
        add_type INTEGER NOT NULL,
        remark TEXT NOT NULL DEFAULT '',
        group_name TEXT NOT NULL DEFAULT '',
        add_source TEXT NOT NULL DEFAULT '',
        add_wording TEXT NOT NULL DEFAULT '',
        add_time BIGINT NOT NULL,
        PRIMARY KEY (user_id, applicant)
    )""",
    "CREATE INDEX friend_applications_applicant ON friend_applications (applicant)",
    """CREATE TABLE friend_reads (
        user_id TEXT PRIMARY KEY,
        read_time BIGINT NOT NULL
    )""",
    """CREATE TABLE blacklist (
        user_id TEXT NOT NULL,
        blocked_id TEXT NOT NULL,
        add_time BIGINT NOT NULL,
        PRIMARY KEY (user_id, blocked_id)
    )""",
    """CREATE TABLE friend_groups (
        user_id TEXT NOT NULL,
        name TEXT NOT NULL,
        created BIGINT NOT NULL,
        PRIMARY KEY (user_id, name)
    )""",
    """CREATE TABLE friend_group_items (
        user_id TEXT NOT NULL,
        name TEXT NOT NULL,
        friend_id TEXT NOT NULL,
        PRIMARY KEY (user_id, name, friend_id)
    )""",
    # (A, B): A follows B.
    """CREATE TABLE follows (
        user_id TEXT NOT NULL,
        target_id TEXT NOT NULL,
        follow_time BIGINT NOT NULL,
        PRIMARY KEY (user_id, target_id)
    )""",
    "CREATE INDEX follows_target ON follows (target_id, user_id)",
    """CREATE TABLE official_accounts (
        account_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        face_url TEXT NOT NULL DEFAULT '',
        owner TEXT NOT NULL DEFAULT '',
        introduction TEXT NOT NULL DEFAULT '',
        organization TEXT NOT NULL DEFAULT '',
        custom_data TEXT NOT NULL DEFAULT '',
        create_time BIGINT NOT NULL
    )""",
    """CREATE TABLE official_subscriptions (
        account_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        subscribe_time BIGINT NOT NULL,
        PRIMARY KEY (account_id, user_id)
    )""",
    "CREATE INDEX official_subscriptions_user ON official_subscriptions (user_id)",
]
"""Migration 5: friends, applications, blacklist, friend groups, follows, official accounts."""
GROUP_PROFILES: Final[list[str]] = [
    # Group settings and custom fields, member profiles in the group (name card, mute, custom
    # fields, a per-group join order that pages the member list), join applications and
    # invitations waiting for approval, and when each user last read them.
    "ALTER TABLE groups ADD COLUMN approve_option INTEGER NOT NULL DEFAULT 2",
    "ALTER TABLE groups ADD COLUMN shutup_all INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE groups ADD COLUMN custom TEXT NOT NULL DEFAULT '{}'",
    "ALTER TABLE groups ADD COLUMN info_seq BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE groups ADD COLUMN info_time BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE groups ADD COLUMN member_seq BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE members ADD COLUMN seq BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE members ADD COLUMN name_card TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE members ADD COLUMN mute_until BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE members ADD COLUMN custom TEXT NOT NULL DEFAULT '{}'",
    "UPDATE members SET seq = (SELECT count(*) FROM members m WHERE m.group_id = members.group_id "
    "AND (m.join_time < members.join_time OR (m.join_time = members.join_time "
    "AND m.user_id <= members.user_id)))",
    "UPDATE groups SET member_seq = (SELECT count(*) FROM members m "
    "WHERE m.group_id = groups.group_id)",
    "CREATE UNIQUE INDEX members_order ON members (group_id, seq)",
    """CREATE TABLE group_pendencies (
        group_id TEXT NOT NULL,
        from_user TEXT NOT NULL,
        to_user TEXT NOT NULL,
        pendency_type INTEGER NOT NULL,
        add_time BIGINT NOT NULL,
        pos BIGINT NOT NULL,
        apply_msg TEXT NOT NULL,
        handler TEXT NOT NULL DEFAULT '',
        result INTEGER NOT NULL DEFAULT 0,
        handle_msg TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (group_id, from_user, to_user)
    )""",
    "CREATE INDEX group_pendencies_pos ON group_pendencies (pos)",
    """CREATE TABLE group_pendency_reads (
        user_id TEXT PRIMARY KEY,
        read_time BIGINT NOT NULL
    )""",
]
"""Migration 6: group info, member profiles and pending applications."""

MIGRATIONS: Final[list[list[str]]] = [
    [
        """CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value BIGINT NOT NULL
        )""",
        """CREATE TABLE users (
            user_id TEXT PRIMARY KEY,
            profile TEXT NOT NULL,
            created BIGINT NOT NULL
        )""",
        """CREATE TABLE channels (
            channel_id TEXT PRIMARY KEY,
            max_seq BIGINT NOT NULL,
            count BIGINT NOT NULL,
            last_seq BIGINT NOT NULL,
            activity BIGINT NOT NULL
        )""",
        """CREATE TABLE messages (
            channel_id TEXT NOT NULL,
            seq BIGINT NOT NULL,
            msg_id TEXT NOT NULL,
            conv_type INTEGER NOT NULL,
            sender TEXT NOT NULL,
            receiver TEXT NOT NULL,
            count BIGINT NOT NULL,
            activity BIGINT NOT NULL,
            server_time BIGINT NOT NULL,
            client_time BIGINT NOT NULL,
            random BIGINT NOT NULL,
            priority INTEGER NOT NULL,
            platform INTEGER NOT NULL,
            flags INTEGER NOT NULL,
            elems TEXT NOT NULL,
            cloud_custom_data TEXT NOT NULL,
            at_users TEXT NOT NULL,
            PRIMARY KEY (channel_id, seq)
        )""",
        "CREATE UNIQUE INDEX messages_sender_msg_id ON messages (sender, msg_id)",
        """CREATE TABLE conversations (
            user_id TEXT NOT NULL,
            conv_type INTEGER NOT NULL,
            conv_id TEXT NOT NULL,
            channel_id TEXT NOT NULL,
            read_seq BIGINT NOT NULL DEFAULT 0,
            read_count BIGINT NOT NULL DEFAULT 0,
            pinned INTEGER NOT NULL DEFAULT 0,
            draft TEXT,
            bump BIGINT NOT NULL DEFAULT 0,
            changed BIGINT NOT NULL DEFAULT 0,
            deleted INTEGER NOT NULL DEFAULT 0,
            deleted_up_to BIGINT NOT NULL DEFAULT 0,
            end_seq BIGINT,
            end_count BIGINT,
            end_activity BIGINT,
            recv_opt INTEGER NOT NULL DEFAULT 0,
            custom_data TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (user_id, conv_type, conv_id)
        )""",
        """CREATE TABLE groups (
            group_id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            group_type INTEGER NOT NULL,
            owner TEXT NOT NULL,
            add_option INTEGER NOT NULL,
            face_url TEXT NOT NULL,
            introduction TEXT NOT NULL,
            notification TEXT NOT NULL,
            create_time BIGINT NOT NULL,
            dismissed INTEGER NOT NULL DEFAULT 0
        )""",
        """CREATE TABLE members (
            group_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            role INTEGER NOT NULL,
            join_time BIGINT NOT NULL,
            PRIMARY KEY (group_id, user_id)
        )""",
        "CREATE INDEX members_user ON members (user_id)",
        "INSERT INTO meta (key, value) VALUES ('clock', 0)",
    ],
    [
        # When the draft was last set or cancelled: the later edit wins across devices.
        "ALTER TABLE conversations ADD COLUMN draft_time BIGINT NOT NULL DEFAULT 0",
    ],
    [
        # Marks, custom data, conversation groups, receive options, @-mentions,
        # revoke, per-user message deletion, clearing history without deleting.
        "ALTER TABLE conversations ADD COLUMN marks BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE conversations ADD COLUMN hide_seq BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE conversations ADD COLUMN cgroups TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE conversations ADD COLUMN cleared_up_to BIGINT NOT NULL DEFAULT 0",
        "UPDATE conversations SET cleared_up_to = deleted_up_to",
        "ALTER TABLE channels ADD COLUMN changed BIGINT NOT NULL DEFAULT 0",
        "UPDATE channels SET changed = activity",
        "ALTER TABLE messages ADD COLUMN revoker TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE messages ADD COLUMN revoke_reason TEXT NOT NULL DEFAULT ''",
        """CREATE TABLE mentions (
            channel_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            seq BIGINT NOT NULL,
            PRIMARY KEY (channel_id, user_id, seq)
        )""",
        """CREATE TABLE msg_deletions (
            user_id TEXT NOT NULL,
            channel_id TEXT NOT NULL,
            seq BIGINT NOT NULL,
            PRIMARY KEY (user_id, channel_id, seq)
        )""",
        """CREATE TABLE conv_groups (
            user_id TEXT NOT NULL,
            name TEXT NOT NULL,
            created BIGINT NOT NULL,
            PRIMARY KEY (user_id, name)
        )""",
        """CREATE TABLE conv_group_items (
            user_id TEXT NOT NULL,
            name TEXT NOT NULL,
            conv_type INTEGER NOT NULL,
            conv_id TEXT NOT NULL,
            added BIGINT NOT NULL,
            PRIMARY KEY (user_id, name, conv_type, conv_id)
        )""",
        "CREATE INDEX conv_group_items_order ON conv_group_items (user_id, name, added)",
    ],
    LEGACY_DRAFT_TIMES,
    FRIENDSHIP,
    GROUP_PROFILES,
    # --- issue 11, users: status, subscriptions, push settings, all-messages receive option.
    [
        """CREATE TABLE user_state (
            user_id TEXT PRIMARY KEY,
            custom_status TEXT NOT NULL DEFAULT '',
            dropped INTEGER NOT NULL DEFAULT 0,
            recv_opt INTEGER NOT NULL DEFAULT 0,
            recv_start BIGINT NOT NULL DEFAULT 0,
            recv_duration BIGINT NOT NULL DEFAULT 0,
            recv_daily INTEGER NOT NULL DEFAULT 0
        )""",
        """CREATE TABLE presence (
            user_id TEXT NOT NULL,
            conn_id TEXT NOT NULL,
            node TEXT NOT NULL,
            device_id TEXT NOT NULL,
            platform INTEGER NOT NULL,
            PRIMARY KEY (user_id, conn_id)
        )""",
        "CREATE INDEX presence_node ON presence (node)",
        """CREATE TABLE subscriptions (
            user_id TEXT NOT NULL,
            kind INTEGER NOT NULL,
            target TEXT NOT NULL,
            PRIMARY KEY (user_id, kind, target)
        )""",
        "CREATE INDEX subscriptions_target ON subscriptions (target, kind)",
        """CREATE TABLE push_devices (
            user_id TEXT NOT NULL,
            device_id TEXT NOT NULL,
            token TEXT NOT NULL DEFAULT '',
            business_id BIGINT NOT NULL DEFAULT 0,
            token_type INTEGER NOT NULL DEFAULT 0,
            background INTEGER NOT NULL DEFAULT 0,
            unread BIGINT NOT NULL DEFAULT 0,
            updated BIGINT NOT NULL DEFAULT 0,
            PRIMARY KEY (user_id, device_id)
        )""",
        # TIMMsgFindMessages looks messages up by id alone.
        "CREATE INDEX messages_msg_id ON messages (msg_id)",
    ],
    # Issue 12, modify: how many times a message was modified (TIMMsgModifyMessage refuses a
    # change made from an older version with 8006).
    ["ALTER TABLE messages ADD COLUMN version INTEGER NOT NULL DEFAULT 0"],
    # --- issue 12, reactions: who has which reaction on a message (n: the order of adding).
    [
        """CREATE TABLE message_reactions (
            channel_id TEXT NOT NULL,
            seq BIGINT NOT NULL,
            reaction_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            n BIGINT NOT NULL,
            PRIMARY KEY (channel_id, seq, reaction_id, user_id)
        )""",
        "CREATE INDEX message_reactions_order ON message_reactions (channel_id, seq, n)",
    ],
    # --- issue 12, pinned group messages (n: the order of pinning).
    [
        """CREATE TABLE group_pins (
            group_id TEXT NOT NULL,
            seq BIGINT NOT NULL,
            pinned_by TEXT NOT NULL,
            pinned_at BIGINT NOT NULL,
            n BIGINT NOT NULL,
            PRIMARY KEY (group_id, seq)
        )""",
    ],
    # --- issue 12, message extensions: a key's value and version (raised by every set).
    [
        """CREATE TABLE message_extensions (
            channel_id TEXT NOT NULL,
            seq BIGINT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            version BIGINT NOT NULL,
            PRIMARY KEY (channel_id, seq, key)
        )""",
    ],
]
