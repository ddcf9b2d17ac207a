"""Fuzzing the sans-I/O core: no frame makes the session or the codec raise."""

from __future__ import annotations

import contextlib
import random

from hypothesis import HealthCheck, given, settings, strategies as st

from opentim.protocol import ServerSession, decode_server_frame
from opentim.protocol.exceptions import RemoteProtocolError
from opentim.server.gateway.dispatch import ALLOWED

from ..fuzzing import Fuzzer, is_error_answer

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))


@FUZZ
@given(st.randoms(use_true_random=False), st.booleans())
def test_a_session_answers_every_frame_with_a_request_or_an_error(
    rng: random.Random, logged_in: bool
) -> None:
    session = ServerSession(ALLOWED)
    if logged_in:
        session.logged_in("mallory")
    fuzzer = Fuzzer(rng)
    for req_id in range(1, 6):
        result = session.receive_data(fuzzer.frame(req_id))
        if isinstance(result, bytes):
            assert is_error_answer(result), result[:200]
        else:
            req, _body = result
            assert req.op != "login" or not logged_in


@FUZZ
@given(st.randoms(use_true_random=False))
def test_the_sdk_decoder_raises_only_protocol_errors(rng: random.Random) -> None:
    fuzzer = Fuzzer(rng)
    for req_id in range(5):
        with contextlib.suppress(RemoteProtocolError):
            decode_server_frame(fuzzer.frame(req_id))
