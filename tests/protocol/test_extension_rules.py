"""Extension rules: a set succeeds exactly for the keys whose version the caller saw, within
the per-message limit, and raises each written key's version by one."""

from __future__ import annotations

from hypothesis import given, strategies as st

from opentim.protocol import ErrorCode
from opentim.protocol.rules.extensions import MAX_PER_MSG, Stored, Wanted, set_outcome

keys = st.sampled_from([f"k{i}" for i in range(6)])


@given(
    st.dictionaries(keys, st.builds(Stored, st.just("v"), st.integers(1, 3))),
    st.lists(st.builds(Wanted, keys, st.just("new"), st.integers(0, 3)), unique_by=lambda w: w.key),
)
def test_set_outcome(current: dict[str, Stored], wanted: list[Wanted]) -> None:
    codes, writes = set_outcome(current, wanted)
    for w in wanted:
        seen = current[w.key].version if w.key in current else 0
        if w.version == seen:
            assert codes[w.key] is None
            assert writes[w.key] == Stored("new", seen + 1)
        else:
            assert codes[w.key] == ErrorCode.ERR_SVR_MSG_EXTENSION_CONFLICT
            assert w.key not in writes


def test_the_limit_counts_new_keys_only() -> None:
    full = {f"k{i}": Stored("v", 1) for i in range(MAX_PER_MSG)}
    codes, writes = set_outcome(full, [Wanted("new", "v", 0), Wanted("k1", "w", 1)])
    assert codes == {"new": ErrorCode.ERR_INVALID_PARAMETERS, "k1": None}
    assert list(writes) == ["k1"]
