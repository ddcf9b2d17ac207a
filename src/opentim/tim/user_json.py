"""The JSON of user profiles (with custom fields), user statuses and the all-messages receive
option, as TIM callbacks carry them."""

from __future__ import annotations

from opentim.protocol import AllRecvOpt, Profile, UserStatus

from . import keys as k, user_keys as uk
from .convert import JsonObject, profile_json


def full_profile_json(profile: Profile) -> JsonObject:
    """A UserProfile with its custom string array."""
    out = profile_json(profile, profile.user_id)
    out[k.USER_PROFILE_CUSTOM_STRING_ARRAY] = [
        {k.USER_PROFILE_CUSTOM_STRING_INFO_KEY: key, k.USER_PROFILE_CUSTOM_STRING_INFO_VALUE: v}
        for key, v in profile.custom.items()
    ]
    return out


def status_json(status: UserStatus) -> JsonObject:
    return {
        k.USER_STATUS_IDENTIFIER: status.user_id,
        k.USER_STATUS_STATUS_TYPE: status.status_type,
        k.USER_STATUS_CUSTOM_STATUS: status.custom_status,
        k.USER_STATUS_ONLINE_DEVICES: list(status.online_devices),
    }


def all_recv_opt_json(opt: AllRecvOpt) -> JsonObject:
    """A TIMReceiveMessageOptInfo: the time of day of a daily window, or the time stamp of a
    one-time one (the other left 0), its duration and the option."""
    hour, rest = divmod(opt.start, 3600) if opt.daily else (0, 0)
    return {
        uk.MSG_ALL_RECV_MSG_OPT_START_HOUR: hour,
        uk.MSG_ALL_RECV_MSG_OPT_START_MINUTE: rest // 60,
        uk.MSG_ALL_RECV_MSG_OPT_START_SECOND: rest % 60,
        uk.MSG_ALL_RECV_MSG_OPT_START_TIME_STAMP: 0 if opt.daily else opt.start,
        uk.MSG_ALL_RECV_MSG_DURATION: opt.duration,
        uk.MSG_ALL_RECV_MSG_OPT_LEVEL: opt.opt,
    }
