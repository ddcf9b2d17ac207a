"""rules/modify.py: which element changes TIMMsgModifyMessage allows."""

from __future__ import annotations

from typing import Any

from hypothesis import given, strategies as st

from opentim.protocol.rules.modify import MODIFIABLE_ELEMS, elems_modifiable

kinds = st.integers(min_value=0, max_value=12)


def elems(kind_list: list[int], tag: str) -> list[dict[str, Any]]:
    return [{"elem_type": k, "text_elem_content": f"{tag}{i}"} for i, k in enumerate(kind_list)]


@given(st.lists(kinds, min_size=1, max_size=5))
def test_unchanged_elements_are_always_allowed(kind_list: list[int]) -> None:
    """Changing only the cloud custom data works for a message of any kind."""
    assert elems_modifiable(elems(kind_list, "a"), elems(kind_list, "a"))


@given(st.lists(kinds, min_size=1, max_size=5))
def test_changed_elements_need_modifiable_kinds(kind_list: list[int]) -> None:
    allowed = elems_modifiable(elems(kind_list, "a"), elems(kind_list, "b"))
    assert allowed == all(k in MODIFIABLE_ELEMS for k in kind_list)


@given(st.lists(kinds, min_size=1, max_size=5), st.lists(kinds, min_size=1, max_size=5))
def test_the_kinds_stay_position_by_position(old: list[int], new: list[int]) -> None:
    if old != new:
        assert not elems_modifiable(elems(old, "a"), elems(new, "b"))


def test_an_image_cannot_become_a_text_nor_change() -> None:
    image = [{"elem_type": 1, "image_elem_orig_path": "x"}]
    assert not elems_modifiable(image, [{"elem_type": 0, "text_elem_content": "t"}])
    assert not elems_modifiable(image, [{"elem_type": 1, "image_elem_orig_path": "y"}])
    assert elems_modifiable(
        [{"elem_type": 0, "text_elem_content": "a"}], [{"elem_type": 0, "text_elem_content": "b"}]
    )
