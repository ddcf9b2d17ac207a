"""opentim's additions to the TIM interface: the one list of names that are not in the reference.

Everything else the TIM layer exposes (function names, parameter names, JSON keys, enum values,
error codes) comes from the reference (DESIGN §6). A public name outside the reference must be
listed in ``OPENTIM_EXTENSIONS``; tests pin ``opentim.tim.__all__`` against the reference plus
this list.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Final

from opentim.protocol import OpenTimError

from .keys import TIMResult

SDK_CONFIG_SERVER_URL: Final = "sdk_config_server_url"
"""``TIMInit`` config key (string): the opentim server's WebSocket URL."""

SDK_CONFIG_SERVER_CA_FILE: Final = "sdk_config_server_ca_file"
"""``TIMInit`` config key (string): a PEM file of the CAs a ``wss://`` server's certificate must
chain to (default: the system's)."""

MESSAGE_VERSION: Final = "message_version"
"""Message key (uint64, read-only): how many times the message was modified. Tencent's own SDK
puts it in every Message (one of its internal fields, ``MessageInternalField``, so not among the
generated keys); ``TIMMsgModifyMessage`` reads it back from the Message the app hands in and
answers 8006 when the message changed since that version."""

DEFAULT_SERVER_URL: Final = "ws://127.0.0.1:9000/ws"
"""Where ``TIMInit`` connects when ``sdk_config_server_url`` is not given."""

SERVER_URL_ENV: Final = "OPENTIM_SERVER_URL"
"""Environment variable: the server's URL when ``TIMInit``'s JSON has no
``sdk_config_server_url``."""

CONFIG_FILE: Final = "opentim.json"
"""A JSON object in ``sdk_config_config_file_path`` whose ``sdk_config_server_url`` is the server's
URL when neither ``TIMInit``'s JSON nor ``OPENTIM_SERVER_URL`` gives one."""


class ServerUrlError(OpenTimError):
    """``opentim.json`` exists but does not say where the server is (``TIMInit`` returns
    ``TIM_ERR_PARAM``)."""

    def __init__(self, desc: str) -> None:
        super().__init__(TIMResult.TIM_ERR_PARAM, desc)


def server_url(configured: str | None, config_dir: Path | None) -> str:
    """Where ``TIMInit`` connects, so an app written for Tencent's SDK needs no code change:
    ``sdk_config_server_url`` of its JSON, else ``OPENTIM_SERVER_URL``, else ``opentim.json``
    in its ``sdk_config_config_file_path``, else ``DEFAULT_SERVER_URL``.

    Raises:
        ServerUrlError: ``opentim.json`` cannot be read, is not a JSON object, or its
            ``sdk_config_server_url`` is not a non-empty string.
    """
    if configured:
        return configured
    from_env = os.environ.get(SERVER_URL_ENV)
    if from_env:
        return from_env
    if config_dir is not None:
        path = config_dir / CONFIG_FILE
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return DEFAULT_SERVER_URL
        except (OSError, UnicodeDecodeError) as exc:
            raise ServerUrlError(f"cannot read {path}: {exc}") from exc
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ServerUrlError(f"{path} is not JSON: {exc}") from exc
        url = data.get(SDK_CONFIG_SERVER_URL) if isinstance(data, dict) else None
        if not isinstance(url, str) or not url:
            raise ServerUrlError(f"{path} needs a {SDK_CONFIG_SERVER_URL} string")
        return url
    return DEFAULT_SERVER_URL


OPENTIM_EXTENSIONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "TIMSDK": (
            "class, no constructor arguments: one SDK instance with its own SDK thread and event "
            "loop; its methods are the TIM functions, same names and parameters; the module-level "
            "functions act on one default instance"
        ),
        SDK_CONFIG_SERVER_URL: (
            f"TIMInit json_sdk_config key (string): the server's WebSocket URL; without it "
            f"{SERVER_URL_ENV}, then {CONFIG_FILE} in sdk_config_config_file_path, then "
            f"{DEFAULT_SERVER_URL}"
        ),
        SDK_CONFIG_SERVER_CA_FILE: (
            "TIMInit json_sdk_config key (string): PEM file of the certificate authorities a "
            "wss:// server's certificate must chain to (default: the system's)"
        ),
    }
)
"""Every public name opentim adds to the reference, with what it is."""
