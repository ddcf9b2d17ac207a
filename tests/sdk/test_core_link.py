"""The connection life's state table, event by event."""

from __future__ import annotations

import pytest

from opentim.sdk.core import Effect, Link, LinkAction, LinkEvent, LinkState, LoginStatus
from opentim.sdk.core.link import TRANSITIONS

E, S = LinkEvent, LinkState


def link() -> Link:
    return Link((1.0, 8.0), jitter=lambda low, high: 1.0)


def effects(actions: list[LinkAction]) -> list[Effect]:
    return [a.effect for a in actions]


def test_a_login_connects_then_syncs() -> None:
    life = link()
    assert life.login_status is LoginStatus.LOGGED_OUT
    assert effects(life.handle(E.LOGIN)) == [Effect.CONNECT]
    assert life.login_status is LoginStatus.LOGGING_IN
    assert not life.resuming
    assert effects(life.handle(E.LOGGED_IN)) == [Effect.SYNC]
    assert life.online
    assert life.login_status is LoginStatus.LOGGED_IN


def test_a_failed_first_login_ends_the_session() -> None:
    life = link()
    life.handle(E.LOGIN)
    assert life.handle(E.LOGIN_FAILED) == []
    assert life.state is S.LOGGED_OUT


def test_a_lost_connection_waits_longer_after_each_failed_attempt_up_to_the_longest() -> None:
    life = link()
    life.handle(E.LOGIN)
    life.handle(E.LOGGED_IN)
    out = life.handle(E.LOST)
    assert effects(out) == [Effect.DISCONNECTED, Effect.WAIT]
    assert out[1].delay == 1.0
    assert life.login_status is LoginStatus.LOGGED_IN
    assert not life.online
    delays = []
    for _ in range(5):
        assert effects(life.handle(E.RETRY)) == [Effect.CONNECT]
        assert life.resuming
        (wait,) = life.handle(E.RETRY_FAILED)
        delays.append(wait.delay)
    assert delays == [2.0, 4.0, 8.0, 8.0, 8.0]
    life.handle(E.RETRY)
    assert effects(life.handle(E.LOGGED_IN)) == [Effect.SYNC]
    (_, wait) = life.handle(E.LOST)
    assert wait.delay == 1.0  # a new loss starts the backoff over


def test_the_jitter_spreads_the_waits() -> None:
    life = Link((1.0, 8.0), jitter=lambda low, high: high)
    life.handle(E.LOGIN)
    life.handle(E.LOGGED_IN)
    assert life.handle(E.LOST)[1].delay == 1.5


@pytest.mark.parametrize(
    ("event", "told"),
    [(E.KICKED, [Effect.KICKED]), (E.SIG_EXPIRED, [Effect.SIG_EXPIRED]), (E.REFUSED, [])],
)
def test_a_refused_reconnect_ends_the_session(event: LinkEvent, told: list[Effect]) -> None:
    life = link()
    for step in (E.LOGIN, E.LOGGED_IN, E.LOST, E.RETRY):
        life.handle(step)
    out = life.handle(event, 6208, "why")
    assert effects(out) == told
    assert all((a.code, a.desc) == (6208, "why") for a in out)
    assert life.state is S.LOGGED_OUT
    assert life.handle(E.RETRY) == []  # a wait still running ends there


def test_pushes_that_end_an_online_session() -> None:
    life = link()
    life.handle(E.LOGIN)
    life.handle(E.LOGGED_IN)
    assert effects(life.handle(E.SIG_EXPIRED)) == [Effect.DROP, Effect.SIG_EXPIRED]
    assert life.handle(E.LOST) == []  # the server closing it afterwards is no loss
    life.handle(E.LOGIN)
    life.handle(E.LOGGED_IN)
    assert effects(life.handle(E.KICKED)) == [Effect.KICKED]


@pytest.mark.parametrize("state", list(LinkState))
def test_a_logout_from_any_state_ends_logged_out(state: LinkState) -> None:
    life = link()
    life.state = state
    assert life.handle(E.LOGOUT) == []
    assert life.login_status is LoginStatus.LOGGING_OUT
    assert life.handle(E.CLOSED) == []
    assert life.state is S.LOGGED_OUT


def test_a_login_during_a_logout_connects_anew() -> None:
    life = link()
    life.handle(E.LOGOUT)
    assert effects(life.handle(E.LOGIN)) == [Effect.CONNECT]


def test_events_outside_the_table_change_nothing() -> None:
    for state in LinkState:
        for event in LinkEvent:
            if (state, event) in TRANSITIONS:
                continue
            life = link()
            life.state = state
            assert life.handle(event) == []
            assert life.state is state
