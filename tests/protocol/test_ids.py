from __future__ import annotations

import base64

import pytest
from hypothesis import given, strategies as st

from opentim.protocol import (
    ConvType,
    RemoteProtocolError,
    SyncToken,
    c2c_channel,
    conversation_id,
    encode_token,
    parse_conversation_id,
    parse_token,
)
from opentim.protocol.cursors import INCREMENTAL

ids = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=32)


@given(ids, ids)
def test_c2c_channel_is_the_same_from_both_sides(a: str, b: str) -> None:
    assert c2c_channel(a, b) == c2c_channel(b, a)


@given(ids, ids, ids, ids)
def test_c2c_channels_of_different_pairs_differ(a: str, b: str, c: str, d: str) -> None:
    if {a, b} != {c, d}:
        assert c2c_channel(a, b) != c2c_channel(c, d)


@given(ids, st.sampled_from([ConvType.C2C, ConvType.GROUP]))
def test_conversation_ids_round_trip(conv_id: str, conv_type: ConvType) -> None:
    assert parse_conversation_id(conversation_id(conv_type, conv_id)) == (conv_type, conv_id)


def test_bare_prefixes_are_not_conversation_ids() -> None:
    assert parse_conversation_id("c2c_") is None
    assert parse_conversation_id("group") is None


@given(st.integers(0, 2**62), st.sampled_from([0, 1, 2]), st.integers(0, 2**62), ids)
def test_sync_tokens_round_trip(pos: int, phase: int, horizon: int, after_id: str) -> None:
    token = SyncToken(phase=phase, pos=pos, horizon=horizon, after_type=1, after_id=after_id)
    assert parse_token(encode_token(token)) == token


def test_fresh_token_is_empty_and_junk_is_refused() -> None:
    assert encode_token(SyncToken()) == ""
    assert parse_token("") == SyncToken()
    with pytest.raises(RemoteProtocolError):
        parse_token("!!not-a-token")
    with pytest.raises(RemoteProtocolError):
        parse_token(encode_token(SyncToken(v=99)))


def test_a_token_from_before_database_identities_parses_with_no_identity() -> None:
    old = base64.urlsafe_b64encode(b'{"v":1,"phase":2,"pos":41}').decode()
    assert parse_token(old) == SyncToken(phase=INCREMENTAL, pos=41, db=0)
    named = SyncToken(phase=INCREMENTAL, pos=41, db=2**62 - 1)
    assert parse_token(encode_token(named)) == named
