"""No code change for the server address: without ``sdk_config_server_url`` in ``TIMInit``'s
JSON, the SDK reads ``OPENTIM_SERVER_URL``, then ``opentim.json`` in the app's config directory
(``sdk_config_config_file_path``), then the default."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from opentim.tim import TIMSDK, keys as k
from opentim.tim.extensions import (
    CONFIG_FILE,
    DEFAULT_SERVER_URL,
    SERVER_URL_ENV,
    ServerUrlError,
    server_url,
)

from .conftest import SDKAPPID, TIMEOUT, ServerThread

DEAD_URL = "ws://127.0.0.1:9/ws"
"""A loopback port nothing listens on (discard)."""


def login_code(config: dict[str, Any], server: ServerThread, user_id: str) -> int:
    """``TIMInit`` with ``config``, ``TIMLogin``: the login callback's code."""
    sdk = TIMSDK()
    assert sdk.TIMInit(SDKAPPID, json.dumps(config)) == k.TIM_SUCC
    done = threading.Event()
    codes: list[int] = []

    def on_login(code: int, desc: str, json_params: str, user_data: object) -> None:
        codes.append(code)
        done.set()

    try:
        assert sdk.TIMLogin(user_id, server.sig(user_id), on_login, None) == k.TIM_SUCC
        assert done.wait(TIMEOUT + 20)
    finally:
        assert sdk.TIMUninit() == k.TIM_SUCC
    return codes[0]


def test_the_environment_names_the_server(
    server: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SERVER_URL_ENV, server.url)
    config = {k.SDK_CONFIG_CONFIG_FILE_PATH: str(tmp_path)}
    assert login_code(config, server, "alice") == 0


def test_opentim_json_in_the_config_directory_names_the_server(
    server: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SERVER_URL_ENV, raising=False)
    (tmp_path / CONFIG_FILE).write_text(json.dumps({"sdk_config_server_url": server.url}))
    config = {k.SDK_CONFIG_CONFIG_FILE_PATH: str(tmp_path)}
    assert login_code(config, server, "bob") == 0


def test_the_order_is_init_json_then_environment_then_file_then_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / CONFIG_FILE).write_text(json.dumps({"sdk_config_server_url": "ws://file/ws"}))
    monkeypatch.setenv(SERVER_URL_ENV, "ws://env/ws")
    assert server_url("ws://init/ws", tmp_path) == "ws://init/ws"
    assert server_url(None, tmp_path) == "ws://env/ws"
    monkeypatch.setenv(SERVER_URL_ENV, "")
    assert server_url(None, tmp_path) == "ws://file/ws"
    assert server_url(None, tmp_path / "elsewhere") == DEFAULT_SERVER_URL
    assert server_url(None, None) == DEFAULT_SERVER_URL


def test_the_init_json_wins_over_the_environment(
    server: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SERVER_URL_ENV, DEAD_URL)
    config = {k.SDK_CONFIG_CONFIG_FILE_PATH: str(tmp_path), "sdk_config_server_url": server.url}
    assert login_code(config, server, "carol") == 0


@pytest.mark.parametrize(
    "text", ["not json", "[]", '{"sdk_config_server_url": 1}', '{"server": "ws://x/ws"}']
)
def test_an_opentim_json_that_names_no_server_refuses_init(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    monkeypatch.delenv(SERVER_URL_ENV, raising=False)
    (tmp_path / CONFIG_FILE).write_text(text)
    with pytest.raises(ServerUrlError):
        server_url(None, tmp_path)
    sdk = TIMSDK()
    config = json.dumps({k.SDK_CONFIG_CONFIG_FILE_PATH: str(tmp_path)})
    assert sdk.TIMInit(SDKAPPID, config) == k.TIM_ERR_PARAM
    assert sdk.TIMUninit() == k.TIM_ERR_SDKUNINIT
