from __future__ import annotations

import pytest
from hypothesis import given, strategies as st
from TLSSigAPIv2 import TLSSigAPIv2

from opentim.protocol import ErrorCode, RemoteProtocolError, make_usersig, verify_usersig

KEY = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e"
APP = 1400000000


def code_of(sig: str, user: str = "alice", app: int = APP, now: int = 1_700_000_100) -> int:
    with pytest.raises(RemoteProtocolError) as info:
        verify_usersig(KEY, app, user, sig, now)
    return int(info.value.code)


def test_usersig_minted_here_verifies_until_expiry() -> None:
    sig = make_usersig(KEY, APP, "alice", now=1_700_000_000, expire=600)
    assert verify_usersig(KEY, APP, "alice", sig, 1_700_000_600) == 1_700_000_600
    assert code_of(sig, now=1_700_000_601) == ErrorCode.ERR_SVR_ACCOUNT_USERSIG_EXPIRED


def test_usersig_from_reference_package_verifies() -> None:
    api = TLSSigAPIv2(APP, KEY)
    import time

    now = int(time.time())
    assert verify_usersig(KEY, APP, "xiaojun", api.gen_sig("xiaojun"), now) > now
    with_buf = api.gen_sig_with_userbuf("xiaojun", 86400, b"abc")
    assert verify_usersig(KEY, APP, "xiaojun", with_buf, now) > now


def test_usersig_refusals_carry_the_login_codes() -> None:
    good = make_usersig(KEY, APP, "alice", now=1_700_000_000)
    forged = make_usersig("another key", APP, "alice", now=1_700_000_000)
    assert code_of(forged) == ErrorCode.ERR_SVR_ACCOUNT_USERSIG_CHECK_FAILED
    assert code_of("not a sig") == ErrorCode.ERR_SVR_ACCOUNT_USERSIG_CHECK_FAILED
    assert code_of(good, user="bob") == ErrorCode.ERR_SVR_ACCOUNT_USERSIG_MISMATCH_ID
    other_app = make_usersig(KEY, 1400000001, "alice", now=1_700_000_000)
    assert code_of(other_app) == ErrorCode.ERR_SVR_ACCOUNT_USERSIG_MISMATCH_SDKAPPID


def test_hex_looking_key_is_used_as_text_not_decoded() -> None:
    sig = make_usersig(KEY, APP, "alice", now=1_700_000_000)
    with pytest.raises(RemoteProtocolError):
        verify_usersig(bytes.fromhex(KEY).hex().upper(), APP, "alice", sig, 1_700_000_001)


@given(st.binary(max_size=200))
def test_junk_sigs_never_crash(junk: bytes) -> None:
    text = junk.decode("latin-1")
    with pytest.raises(RemoteProtocolError):
        verify_usersig(KEY, APP, "alice", text, 1)


def _packed(doc: bytes) -> str:
    """A sig-shaped string around ``doc`` (base64 of zlib, with Tencent's URL alphabet)."""
    import base64
    import zlib

    text = base64.b64encode(zlib.compress(doc, 9)).decode()
    return text.translate(str.maketrans({"+": "*", "/": "-", "=": "_"}))


def _peak_bytes(sig: str) -> tuple[int, float]:
    """The code ``sig`` is refused with is 70003; return the peak memory and time it took."""
    import time
    import tracemalloc

    tracemalloc.start()
    start = time.perf_counter()
    try:
        assert code_of(sig) == ErrorCode.ERR_SVR_ACCOUNT_USERSIG_CHECK_FAILED
        return tracemalloc.get_traced_memory()[1], time.perf_counter() - start
    finally:
        tracemalloc.stop()


def test_usersig_zlib_bomb_is_refused_without_inflating_it() -> None:
    # 246 KB of sig that would inflate to about 250 MB (issue 9, finding 3).
    bomb = _packed(b'{"TLS.ver": "2.0", "x": "' + b"0" * (250 * 1024 * 1024) + b'"}')
    assert len(bomb) > 240_000
    peak, took = _peak_bytes(bomb)
    assert peak < 2 * 1024 * 1024
    assert took < 0.1


def test_usersig_that_inflates_past_the_cap_is_refused_unread() -> None:
    # Short enough to pass the length check, yet it would inflate to 4 MB.
    small_bomb = _packed(b'{"TLS.ver": "2.0", "x": "' + b"0" * (4 * 1024 * 1024) + b'"}')
    assert len(small_bomb) < 8192
    peak, _ = _peak_bytes(small_bomb)
    assert peak < 512 * 1024
