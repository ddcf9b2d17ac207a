"""The session's connection life, sans I/O: one explicit state table.

A login opens a connection; once logged in, a lost connection is re-established by itself with
exponential backoff and jitter, logging in again as an automatic re-login (DESIGN §4), until it
works, the server refuses the login (the session ends), or the app logs out. ``TRANSITIONS`` is
the whole rule: each (state, event) pair not in it changes nothing. ``Link.handle`` returns what
the asyncio layer does next (``Effect``): connect, start a sync, wait before the next attempt
(``delay``), tell the app.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable
from enum import IntEnum

import msgspec


class LoginStatus(IntEnum):
    """Values as TIMLoginStatus."""

    LOGGED_IN = 1
    LOGGING_IN = 2
    LOGGED_OUT = 3
    LOGGING_OUT = 4


class LinkState(enum.Enum):
    LOGGED_OUT = "no session"
    LOGGING_IN = "the first connection and login of a session"
    ONLINE = "logged in and connected"
    WAITING = "logged in, connection lost: waiting before the next attempt"
    RECONNECTING = "logged in, connection lost: an attempt (connect and re-login) is out"
    LOGGING_OUT = "the app is logging out"


class LinkEvent(enum.Enum):
    LOGIN = "the app logs in"
    LOGGED_IN = "a connection is open and the server took the login"
    LOGIN_FAILED = "the first login failed (any reason)"
    LOST = "the connection ended"
    RETRY = "the wait before the next attempt is over"
    RETRY_FAILED = "an attempt failed on the network (or a rate refusal): worth another"
    REFUSED = "an attempt was refused for good (auth)"
    KICKED = "another login with this device id replaced this session"
    SIG_EXPIRED = "the UserSig expired"
    LOGOUT = "the app logs out"
    CLOSED = "the logout is done"


class Effect(enum.Enum):
    CONNECT = "open a connection and log in (again, when logged in)"
    SYNC = "sync behind the login, then send what waited"
    WAIT = "wait ``delay`` seconds, then RETRY"
    DISCONNECTED = "tell the app the connection was lost"
    KICKED = "tell the app it was kicked off"
    SIG_EXPIRED = "tell the app its UserSig expired"
    DROP = "close the connection (the server would take a new login on it; we open anew)"


S, E, F = LinkState, LinkEvent, Effect

TRANSITIONS: dict[tuple[LinkState, LinkEvent], tuple[LinkState, tuple[Effect, ...]]] = {
    (S.LOGGED_OUT, E.LOGIN): (S.LOGGING_IN, (F.CONNECT,)),
    (S.LOGGING_OUT, E.LOGIN): (S.LOGGING_IN, (F.CONNECT,)),
    (S.LOGGING_IN, E.LOGGED_IN): (S.ONLINE, (F.SYNC,)),
    (S.LOGGING_IN, E.LOGIN_FAILED): (S.LOGGED_OUT, ()),
    (S.ONLINE, E.LOST): (S.WAITING, (F.DISCONNECTED, F.WAIT)),
    (S.ONLINE, E.KICKED): (S.LOGGED_OUT, (F.KICKED,)),
    (S.ONLINE, E.SIG_EXPIRED): (S.LOGGED_OUT, (F.DROP, F.SIG_EXPIRED)),
    (S.WAITING, E.RETRY): (S.RECONNECTING, (F.CONNECT,)),
    (S.RECONNECTING, E.LOGGED_IN): (S.ONLINE, (F.SYNC,)),
    (S.RECONNECTING, E.RETRY_FAILED): (S.WAITING, (F.WAIT,)),
    (S.RECONNECTING, E.REFUSED): (S.LOGGED_OUT, ()),
    (S.RECONNECTING, E.KICKED): (S.LOGGED_OUT, (F.KICKED,)),
    (S.RECONNECTING, E.SIG_EXPIRED): (S.LOGGED_OUT, (F.SIG_EXPIRED,)),
    **{(state, E.LOGOUT): (S.LOGGING_OUT, ()) for state in LinkState},
    (S.LOGGING_OUT, E.CLOSED): (S.LOGGED_OUT, ()),
}
"""(state, event) → (next state, effects, in order)."""

LOGIN_STATUS = {
    S.LOGGED_OUT: LoginStatus.LOGGED_OUT,
    S.LOGGING_IN: LoginStatus.LOGGING_IN,
    S.ONLINE: LoginStatus.LOGGED_IN,
    S.WAITING: LoginStatus.LOGGED_IN,
    S.RECONNECTING: LoginStatus.LOGGED_IN,
    S.LOGGING_OUT: LoginStatus.LOGGING_OUT,
}


class LinkAction(msgspec.Struct, frozen=True, gc=False):
    effect: Effect
    delay: float = 0.0
    """For WAIT: seconds before the next attempt."""
    code: int = 0
    desc: str = ""
    """For KICKED and SIG_EXPIRED: what the server said."""


class Link:
    """The state of one session's connection life."""

    def __init__(
        self,
        backoff: tuple[float, float] = (0.25, 30.0),
        jitter: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self.state = LinkState.LOGGED_OUT
        self.backoff = backoff
        self._jitter = jitter
        self.attempt = 0
        """Failed attempts since the connection was lost."""

    @property
    def login_status(self) -> LoginStatus:
        return LOGIN_STATUS[self.state]

    @property
    def online(self) -> bool:
        return self.state is LinkState.ONLINE

    @property
    def resuming(self) -> bool:
        """A connection being made now logs in again (the session goes on)."""
        return self.state is LinkState.RECONNECTING

    def handle(self, event: LinkEvent, code: int = 0, desc: str = "") -> list[LinkAction]:
        """Apply ``event`` (``code`` and ``desc``: what the server said, if anything): the
        effects to carry out, in order (none when it changes nothing)."""
        step = TRANSITIONS.get((self.state, event))
        if step is None:
            return []
        if event is LinkEvent.LOST:
            self.attempt = 0
        elif event is LinkEvent.RETRY_FAILED:
            self.attempt += 1
        self.state, effects = step
        return [
            LinkAction(effect, self._delay() if effect is F.WAIT else 0.0, code, desc)
            for effect in effects
        ]

    def _delay(self) -> float:
        first, longest = self.backoff
        return min(longest, first * 2.0 ** min(self.attempt, 16)) * self._jitter(0.5, 1.5)
