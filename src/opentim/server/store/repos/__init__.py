"""The store's repositories, each written once for both engines (see ../engine.py)."""

from __future__ import annotations

from .. import identity
from ..engine import Engine
from ..sql import Op, execute
from ..writes import WriteTx
from .conv_groups import ConvGroups
from .conversations import Conversations
from .extensions import Extensions
from .friends import Friends
from .groups import Groups
from .messages import Messages
from .pins import Pins
from .presence import Presence
from .reactions import Reactions
from .users import Users

__all__ = [
    "ConvGroups",
    "Conversations",
    "Extensions",
    "Friends",
    "Groups",
    "Messages",
    "Pins",
    "Presence",
    "Reactions",
    "Repositories",
    "Users",
]


class Repositories:
    """What an engine offers the services: one attribute per repository, and the database's
    identity (store/identity.py)."""

    def __init__(self, engine: Engine) -> None:
        self.users = Users(engine)
        self.messages = Messages(engine)
        self.convs = Conversations(engine)
        self.conv_groups = ConvGroups(engine)
        self.groups = Groups(engine)
        self.friends = Friends(engine)
        self.presence = Presence(engine)
        self.reactions = Reactions(engine)
        self.pins = Pins(engine)
        self.extensions = Extensions(engine)
        self.db_id = 0
        """This database's identity, known once the engine is open."""
        self._engine = engine

    async def rotate_database_id(self) -> int:
        """Give the database a new identity (after restoring a backup); returns it."""
        db_id = identity.new_database_id()

        def write(tx: WriteTx) -> Op[None]:
            yield execute("UPDATE meta SET value = ? WHERE key = ?", db_id, identity.KEY)

        await self._engine.write(write)
        self.db_id = db_id
        return db_id
