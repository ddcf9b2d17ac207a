"""The text helpers: ``text_elem``, ``Message.text`` and ``Draft.text``."""

from __future__ import annotations

from opentim.protocol import ConvType, Draft, Message, text_elem


def message(elems: list[dict[str, object]]) -> Message:
    return Message(msg_id="m", conv_type=ConvType.C2C, sender="a", receiver="b", elems=elems)


def test_text_elem_is_a_tim_text_element() -> None:
    assert text_elem("hi") == {"elem_type": 0, "text_elem_content": "hi"}


def test_message_text_concatenates_its_text_elements_only() -> None:
    face = {"elem_type": 6, "face_elem_index": 1}
    msg = message([text_elem("Hello, "), face, text_elem("Bob")])
    assert msg.text == "Hello, Bob"
    assert message([face]).text == ""
    assert message([]).text == ""


def test_draft_text_reads_the_draft_messages_text() -> None:
    draft = Draft(msg={"message_elem_array": [text_elem("Can I"), text_elem(" come?")]})
    assert draft.text == "Can I come?"
    assert Draft().text == ""
    assert Draft(msg={"message_elem_array": ["not an element", 3]}).text == ""
