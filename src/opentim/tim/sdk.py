"""TIMSDK: one TIM SDK instance (an opentim extension; the reference has one global SDK)."""

from __future__ import annotations

from .conv import ConvAPI
from .experimental import ExperimentalAPI
from .friendship import FriendshipAPI
from .group import GroupAPI
from .group_admin import GroupAdminAPI
from .manager import ManagerAPI
from .msg import MsgAPI
from .msg_bulk import MsgBulkAPI
from .msg_ext import MsgExtensionAPI
from .msg_local import MsgLocalAPI
from .msg_merge import MsgMergeAPI
from .msg_send import MsgSendAPI
from .pending import PendingAPI
from .pins import PinAPI
from .reactions import ReactionAPI
from .users import UsersAPI


class TIMSDK(
    ManagerAPI,
    UsersAPI,
    ConvAPI,
    MsgAPI,
    MsgBulkAPI,
    MsgSendAPI,
    MsgLocalAPI,
    MsgMergeAPI,
    GroupAPI,
    GroupAdminAPI,
    FriendshipAPI,
    ExperimentalAPI,
    ReactionAPI,
    PinAPI,
    MsgExtensionAPI,
    PendingAPI,
):
    """One SDK instance: its own SDK thread, event loop, client and registered callbacks.

    It takes no constructor arguments; its methods are the TIM functions, with the reference's
    names and parameters (``sdk.TIMInit(sdk_app_id, json_sdk_config)``,
    ``sdk.TIMConvGetConvList(cb, user_data)`` …). Each instance needs its own ``TIMInit``; the
    module-level functions of ``opentim.tim`` act on one default instance. Several instances
    may live in one process, logged in as different users, or as one user on several devices
    (different ``sdk_config_config_file_path``).

    Every function of the reference is a method; those opentim does not have yet come from
    ``PendingAPI`` (generated) and answer "not yet" (notyet.py).
    """
