"""The database identity: a random number made when a database is created, kept in ``meta``.

Sync tokens carry it (protocol/cursors.py), so a device can tell that the server's history was
replaced under its cache: a new, empty database has a new identity, and ``opentim restore``
gives a restored backup a new one (a backup holds the identity of the database it was taken
from, whose later history the devices may have seen). A token from another identity, or from
before identities existed, starts a full resync instead of an incremental one.
"""

from __future__ import annotations

import secrets
from typing import Final

KEY: Final = "db_id"


def new_database_id() -> int:
    """A fresh identity: positive, below 2^62 (a BIGINT everywhere), never 0 ("no identity")."""
    return secrets.randbits(62) or 1
