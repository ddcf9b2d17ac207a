"""opentim's additions to the TIM interface: the one list of names that are not in the reference.

Everything else the TIM layer exposes (function names, parameter names, JSON keys, enum values,
error codes) comes from the reference (DESIGN §6). A public name outside the reference must be
listed in ``OPENTIM_EXTENSIONS``; tests pin ``opentim.tim.__all__`` against the reference plus
this list.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

SDK_CONFIG_SERVER_URL: Final = "sdk_config_server_url"
"""``TIMInit`` config key (string): the opentim server's WebSocket URL."""

SDK_CONFIG_SERVER_CA_FILE: Final = "sdk_config_server_ca_file"
"""``TIMInit`` config key (string): a PEM file of the CAs a ``wss://`` server's certificate must
chain to (default: the system's)."""

DEFAULT_SERVER_URL: Final = "ws://127.0.0.1:9000/ws"
"""Where ``TIMInit`` connects when ``sdk_config_server_url`` is not given."""

OPENTIM_EXTENSIONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "TIMSDK": (
            "class, no constructor arguments: one SDK instance with its own SDK thread and event "
            "loop; its methods are the TIM functions, same names and parameters; the module-level "
            "functions act on one default instance"
        ),
        SDK_CONFIG_SERVER_URL: (
            f"TIMInit json_sdk_config key (string): the server's WebSocket URL, "
            f"default {DEFAULT_SERVER_URL}"
        ),
        SDK_CONFIG_SERVER_CA_FILE: (
            "TIMInit json_sdk_config key (string): PEM file of the certificate authorities a "
            "wss:// server's certificate must chain to (default: the system's)"
        ),
    }
)
"""Every public name opentim adds to the reference, with what it is."""
