from __future__ import annotations

from hypothesis import given, strategies as st

from opentim.protocol import ConvType, c2c_channel, conversation_id, parse_conversation_id

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
