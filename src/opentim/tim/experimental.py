"""``callExperimentalAPI`` (TIMExperimentalAPI.h): the requests Tencent's public wrappers make at
start-up are answered, the others refused with a clear code.

Tencent's Unity and C# wrappers set the UI platform inside their ``Init`` (before ``TIMInit``),
Flutter apps switch to the test environment, Electron apps of private deployments set their
server's IP and port (``internal_operation_set_custom_server_info``) before ``TIMInit``, and the
Dart layer writes its log lines through ``internal_operation_write_log``. opentim accepts these
(and the other settings of ``ACCEPTED``), checks their parameter, keeps it, and answers with a
ResponseInfo object; it does not act on them (its server is the one ``TIMInit`` names, see
extensions.server_url), except ``write_log``, which logs the line. Any other operation the
reference names answers 7013 through the callback; a string that is none of them is
TIM_ERR_PARAM.

The key and operation strings are facts of tim-c-all.json (TIMExperimentalAPI.h), which
tim-keys.json does not cover; a test checks each against it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final

from opentim.protocol import ErrorCode
from opentim.sdk import SdkError

from .convert import dumps, need_callback, need_object, param_error
from .core import TIMCore, tim_call
from .logs import python_level
from .plan import NOT_YET_CODE
from .runtime import CallKind, TIMCommCallback, early_thread

log = logging.getLogger(__name__)
app_log = logging.getLogger("opentim.app")
"""Where ``internal_operation_write_log`` writes the app's lines."""

REQUEST_INTERNAL_OPERATION: Final = "request_internal_operation"
RESPONSE_INTERNAL_OPERATION: Final = "response_internal_operation"
RESPONSE_SET_ENV_RES: Final = "response_set_env_res"
OPERATION_PREFIX: Final = "internal_operation_"
"""Every operation of the reference (kTIMInternalOperation…) starts with it."""

SET_UI_PLATFORM: Final = "internal_operation_set_ui_platform"
SET_ENV: Final = "internal_operation_set_env"
SET_CUSTOM_SERVER_INFO: Final = "internal_operation_set_custom_server_info"
WRITE_LOG: Final = "internal_operation_write_log"
REQUEST_SET_ENV_PARAM: Final = "request_set_env_param"
REQUEST_WRITE_LOG_LOG_LEVEL_PARAM: Final = "request_write_log_log_level_param"
REQUEST_WRITE_LOG_LOG_CONTENT_PARAM: Final = "request_write_log_log_content_param"
LONGCONNECTION_ADDRESS_ARRAY: Final = "longconnection_address_array"
SERVER_ADDRESS_IP: Final = "server_address_ip"
SERVER_ADDRESS_PORT: Final = "server_address_port"


def _is_uint(bits: int) -> Callable[[object], bool]:
    def check(value: object) -> bool:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return ok and 0 <= value < 1 << bits  # type: ignore[operator]

    return check


def _is_int64(value: object) -> bool:
    ok = isinstance(value, int) and not isinstance(value, bool)
    return ok and -(1 << 63) <= value < 1 << 63  # type: ignore[operator]


def _is_bool(value: object) -> bool:
    return isinstance(value, bool)


def _is_ui_platform(value: object) -> bool:
    """A number (the 8.x wrappers) or a name (``"unity"``, older wrappers)."""
    return isinstance(value, str) or _is_uint(32)(value)


def _is_server_info(value: object) -> bool:
    """A CustomServerInfo: a non-empty array of ServerAddress (ip string, port 1-65535)."""
    if not isinstance(value, dict):
        return False
    addresses = value.get(LONGCONNECTION_ADDRESS_ARRAY)
    if not isinstance(addresses, list) or not addresses:
        return False
    return all(
        isinstance(a, dict)
        and isinstance(a.get(SERVER_ADDRESS_IP), str)
        and _is_uint(16)(a.get(SERVER_ADDRESS_PORT))
        for a in addresses
    )


def _is_object(value: object) -> bool:
    return isinstance(value, dict)


def _is_log_level(value: object) -> bool:
    return _is_uint(3)(value)


ACCEPTED: Final[Mapping[str, tuple[str, Callable[[object], bool]] | None]] = MappingProxyType(
    {
        SET_UI_PLATFORM: ("request_set_ui_platform_param", _is_ui_platform),
        SET_ENV: (REQUEST_SET_ENV_PARAM, _is_bool),
        SET_CUSTOM_SERVER_INFO: ("request_set_custom_server_info_param", _is_server_info),
        "internal_operation_set_ipv6_prior": ("request_set_ipv6_prior_param", _is_bool),
        "internal_operation_set_max_retry_count": (
            "request_set_max_retry_count_param",
            _is_uint(32),
        ),
        "internal_operation_set_packet_request_timeout": (
            "request_set_packet_request_timeout_param",
            _is_int64,
        ),
        "internal_operation_set_application_id": (
            "request_set_application_id_param",
            _is_uint(8),
        ),
        "internal_operation_disable_crash_report": (
            "request_disable_crash_report_param",
            _is_bool,
        ),
        "internal_operation_set_log_setting": ("request_set_log_setting_param", _is_object),
        WRITE_LOG: (REQUEST_WRITE_LOG_LOG_LEVEL_PARAM, _is_log_level),
        "internal_operation_report_tuicomponent_usage": None,
        "internal_operation_set_network_info": None,
    }
)
"""The operations opentim answers: each with its required parameter and its check (None: no
parameter needed)."""


class ExperimentalAPI(TIMCore):
    """``callExperimentalAPI``."""

    @tim_call
    def callExperimentalAPI(
        self, json_param: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """An experimental request (a RequestParam object: ``request_internal_operation`` and
        its parameter). Callable before ``TIMInit`` (the callback then comes on opentim's
        early thread) and without a login.

        The operations of ``ACCEPTED`` answer 0 and a ResponseInfo object
        (``response_internal_operation``, and ``response_set_env_res`` for the test
        environment); the reference's other operations answer 7013 through the callback.

        Returns:
            TIM_SUCC; TIM_ERR_JSON when ``json_param`` is not a JSON object; TIM_ERR_PARAM
            without a callback, without a ``request_internal_operation`` string, for an
            operation the reference does not name, or an accepted operation's parameter
            missing or of the wrong type.
        """
        request = need_object(json_param, "json_param")
        operation = request.get(REQUEST_INTERNAL_OPERATION)
        if not isinstance(operation, str) or not operation.startswith(OPERATION_PREFIX):
            raise param_error(f"{REQUEST_INTERNAL_OPERATION} must name an internal operation")
        callback = need_callback(cb)
        answer = self._experimental_answer(operation, request)
        with self._lock:
            client, runtime = self._client, self._runtime
        if client is None or runtime is None:
            code, desc, text = answer
            early_thread.call_soon(callback, code, desc, text, user_data)
            return 0

        async def work() -> str:
            code, desc, text = answer
            if code:
                raise SdkError(ErrorCode(code), desc)
            return text

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    def _experimental_answer(self, operation: str, request: dict[str, Any]) -> tuple[int, str, str]:
        """``(code, desc, json)`` of one request, after checking and keeping its parameter."""
        if operation not in ACCEPTED:
            return NOT_YET_CODE, f"opentim does not do {operation}", ""
        spec = ACCEPTED[operation]
        value: Any = None
        if spec is not None:
            key, check = spec
            value = request.get(key)
            if not check(value):
                raise param_error(f"{operation} needs a valid {key}")
        response: dict[str, Any] = {RESPONSE_INTERNAL_OPERATION: operation}
        if operation == SET_ENV:
            response[RESPONSE_SET_ENV_RES] = value
        if operation == WRITE_LOG:
            content = request.get(REQUEST_WRITE_LOG_LOG_CONTENT_PARAM)
            if not isinstance(content, str):
                raise param_error(f"{WRITE_LOG} needs {REQUEST_WRITE_LOG_LOG_CONTENT_PARAM}")
            if value:  # kTIMLog_Off writes nothing
                app_log.log(python_level(value), "%s", content)
        else:
            with self._lock:
                self._experimental[operation] = value
            log.info("callExperimentalAPI: %s accepted", operation)
        return 0, "", dumps(response)
