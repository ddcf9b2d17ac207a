"""The TIM C-style API: Tencent Cloud IM's C functions, synchronous, JSON in and JSON out.

Every function returns a ``TIMResult`` (``int``) at once; results arrive later through
``cb(code, desc, json_params, user_data)`` on the SDK thread. Names, parameters, JSON keys, enum
values and codes are the reference's (``opentim.tim.keys`` holds the keys and enums);
``TIMSDK`` and the ``TIMInit`` key ``sdk_config_server_url`` are opentim's additions
(``opentim.tim.extensions.OPENTIM_EXTENSIONS``).

Example::

    from opentim.tim import TIMInit, TIMLogin, TIMConvGetConvList

    TIMInit(1400000000, '{"sdk_config_server_url": "ws://127.0.0.1:9000/ws"}')
    TIMLogin("alice", user_sig, on_login, None)
"""

from __future__ import annotations

from . import functions
from .functions import *  # noqa: F403 (the names of functions.__all__, generated)
from .sdk import TIMSDK

__all__ = ["TIMSDK", *functions.__all__]
