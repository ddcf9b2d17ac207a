"""TIMInit, TIMUninit, TIMLogin, TIMLogout, TIMGetLoginStatus, TIMGetLoginUserID.

``TIMInit`` starts the instance's SDK thread and makes its client; ``TIMUninit`` stops both.
The device id lives in ``sdk_config_config_file_path`` (DESIGN §2: the same path is the same
device, and a second login of one user from one device replaces the first).
"""

from __future__ import annotations

import atexit
import itertools
import logging
import os
import secrets
import shutil
import tempfile
import threading
import time
import weakref
from pathlib import Path
from typing import Any, Final

from opentim.protocol import ErrorCode, TIMResult
from opentim.sdk import Client, SdkError

from . import keys as k
from .convert import (
    CallRefusedError,
    check_buffer,
    check_section,
    fill_buffer,
    need_callback,
    need_int,
    need_str,
    opt_str,
    param_error,
    parse_json,
)
from .core import (
    TIMCore,
    TIMKickedOfflineCallback,
    TIMLogCallback,
    TIMNetworkStatusListenerCallback,
    TIMUserSigExpiredCallback,
    check_listener,
    tim_call,
)
from .extensions import (
    SDK_CONFIG_SERVER_CA_FILE,
    SDK_CONFIG_SERVER_URL,
    ServerUrlError,
    server_url,
)
from .logs import LOGGER, SDK_THREAD_PREFIX, CallbackLogHandler, python_level
from .runtime import CallKind, SdkThread, TIMCommCallback, deliver

log = logging.getLogger(__name__)

SDK_VERSION: Final = "8.6.7021"
"""What ``TIMGetSDKVersion`` returns: the version of Tencent's SDK whose interface opentim
reproduces (tim-c-all.json), so that an app comparing versions sees the one it was written
for. opentim's own version is ``opentim.__version__``."""

LOG_LEVEL_KEYS: Final = (k.SET_CONFIG_LOG_LEVEL, k.SET_CONFIG_CALLBACK_LOG_LEVEL)

DEVICE_ID_FILE = "opentim-device-id"
"""The file, in ``sdk_config_config_file_path``, that holds this device's id."""

_default_dir: Path | None = None
_default_dir_lock = threading.Lock()
_instance_numbers = itertools.count(1)


def default_config_dir() -> Path:
    """Where an instance keeps its data when ``sdk_config_config_file_path`` is not given: one
    temporary directory per process, removed at exit."""
    global _default_dir
    with _default_dir_lock:
        if _default_dir is None:
            _default_dir = Path(tempfile.mkdtemp(prefix="opentim-sdk-"))
            atexit.register(shutil.rmtree, _default_dir, True)
        return _default_dir


def load_device_id(directory: Path) -> str:
    """The device id kept in ``directory``, made on first use (atomically: two instances
    sharing a directory agree on it)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / DEVICE_ID_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        device_id = path.read_text().strip()
        if device_id:
            return device_id
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    device_id = secrets.token_hex(8)
    with os.fdopen(fd, "w") as f:
        f.write(device_id + "\n")
    return device_id


class ManagerAPI(TIMCore):
    """Initialisation and login."""

    @tim_call
    def TIMInit(self, sdk_app_id: int, json_sdk_config: str | None) -> int:
        """Start this instance: its SDK thread, event loop and client.

        Args:
            sdk_app_id: the app's SDKAppID (the server refuses a different one at login, 70014).
            json_sdk_config: an SdKConfig object, or None or "". opentim reads
                ``sdk_config_config_file_path`` (where this device keeps its data; default: a
                temporary directory per process), ``sdk_config_server_url`` (without it,
                ``OPENTIM_SERVER_URL``, then ``opentim.json`` in the config directory, then
                ``ws://127.0.0.1:9000/ws``: ``extensions.server_url``) and
                ``sdk_config_server_ca_file`` (the CAs a ``wss://`` server's certificate must
                chain to; default: the system's).

        Returns:
            TIM_SUCC (also when already initialised: the first configuration stays);
            TIM_ERR_PARAM or TIM_ERR_JSON for bad arguments; TIM_ERR_PARAM when
            ``opentim.json`` is there but unreadable or names no server.
        """
        app_id = need_int(sdk_app_id, "sdk_app_id")
        if not 0 < app_id < 2**64:
            raise param_error("sdk_app_id must be a positive uint64")
        config = parse_json(json_sdk_config, dict, "json_sdk_config", optional=True) or {}
        config_path = opt_str(config, k.SDK_CONFIG_CONFIG_FILE_PATH)
        configured_url = opt_str(config, SDK_CONFIG_SERVER_URL)
        ca_file = opt_str(config, SDK_CONFIG_SERVER_CA_FILE) or None
        opt_str(config, k.SDK_CONFIG_LOG_FILE_PATH)  # accepted; opentim logs through `logging`
        with self._lock:
            if self._runtime is not None:
                return int(TIMResult.TIM_SUCC)
            directory = Path(config_path) if config_path else default_config_dir()
            try:
                device_id = load_device_id(directory)
            except OSError as exc:
                raise param_error(f"cannot use {k.SDK_CONFIG_CONFIG_FILE_PATH}: {exc}") from exc
            try:
                url = server_url(configured_url, Path(config_path) if config_path else None)
            except ServerUrlError as exc:
                raise param_error(str(exc)) from exc
            runtime = SdkThread(f"{SDK_THREAD_PREFIX}{next(_instance_numbers)}")
            client = Client(url, app_id, device_id=device_id, data_dir=directory, ca_file=ca_file)
            self._wire(client)
            runtime.start()
            self._runtime, self._client = runtime, client
            self._status = k.kTIMLoginStatus_UnLogined
            self._login_user = ""
            self._total_unread_armed = False
        log.info("TIMInit: SDKAppID %d, server %s, device %s", app_id, url, device_id)
        return int(TIMResult.TIM_SUCC)

    @tim_call
    def TIMUninit(self) -> int:
        """Log out, stop the SDK thread and drop the client.

        Calls still running get their callback with ``ERR_SDK_NOT_INITIALIZED`` (6013). Waits
        for the SDK thread to end, except when called on it (from a callback).

        Returns:
            TIM_SUCC, or TIM_ERR_SDKUNINIT when not initialised.
        """
        with self._lock:
            runtime, client = self._runtime, self._client
            if runtime is None or client is None:
                raise CallRefusedError(TIMResult.TIM_ERR_SDKUNINIT, "TIMInit has not been called")
            self._runtime = self._client = None
            self._status = k.kTIMLoginStatus_UnLogined
            self._login_user = ""
            self._session_gen += 1
        log.info("TIMUninit: stopping %s", runtime.name)
        runtime.stop(client.close)
        return int(TIMResult.TIM_SUCC)

    @tim_call
    def TIMLogin(
        self, user_id: str, user_sig: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Log in as ``user_id``. The callback gets ``""``, or the server's refusal: 70001
        (expired sig), 70003 (bad sig), 70013 (sig of another user), 70014 (other SDKAppID),
        7003 (invalid user id), 7501 (already logged in), 9508/9510 (no server).

        Later calls of this instance wait for the login to finish before they run.
        """
        client = self._require(login=False)
        uid = need_str(user_id, "user_id")
        sig = need_str(user_sig, "user_sig")
        callback = need_callback(cb)
        with self._lock:
            self._session_gen += 1
            gen = self._session_gen
            if self._status != k.kTIMLoginStatus_Logined:
                self._status = k.kTIMLoginStatus_Logining
                self._login_user = uid

        async def work() -> str:
            try:
                await client.login(uid, sig)
                log.info("TIMLogin: %s logged in", uid)
            except SdkError as exc:
                log.warning("TIMLogin: %s refused: %d %s", uid, exc.code, exc.desc)
                expired = self._sig_expired_cb
                if exc.code == ErrorCode.ERR_SVR_ACCOUNT_USERSIG_EXPIRED and expired is not None:
                    deliver(expired[0], expired[1])
                raise
            finally:
                self._settle(client, gen)
            return ""

        return self._submit(client, CallKind.SESSION, work, callback, user_data)

    @tim_call
    def TIMLogout(self, cb: TIMCommCallback | None, user_data: object = None) -> int:
        """Log out (the callback gets ``""``). Calls made after it are refused with
        TIM_ERR_NOTLOGIN until the next ``TIMLogin``."""
        client = self._require(login=False)
        callback = need_callback(cb)
        with self._lock:
            self._session_gen += 1
            gen = self._session_gen
            self._status = k.kTIMLoginStatus_Logouting

        async def work() -> str:
            try:
                await client.logout()
                log.info("TIMLogout: logged out")
            finally:
                self._settle(client, gen)
            return ""

        return self._submit(client, CallKind.SESSION, work, callback, user_data)

    def _settle(self, client: Client, gen: int) -> None:
        """After a login or logout: the SDK's state becomes this instance's, unless a later
        login or logout has been accepted since (it will settle the state itself)."""
        with self._lock:
            if self._client is client and self._session_gen == gen:
                self._status = k.TIMLoginStatus(int(client.login_status))
                self._login_user = (
                    client.user_id if self._status == k.kTIMLoginStatus_Logined else ""
                )

    def TIMSetKickedOfflineCallback(
        self, cb: TIMKickedOfflineCallback | None, user_data: object = None
    ) -> None:
        """Register ``cb(user_data)``, called when another login of this user replaced this
        one: from the same device (the same ``sdk_config_config_file_path``), or, when the
        server runs ``--one-session-per-platform``, from another device of the same platform;
        None unregisters."""
        check_listener(cb)
        with self._lock:
            self._kicked_cb = None if cb is None else (cb, user_data)

    def TIMSetUserSigExpiredCallback(
        self, cb: TIMUserSigExpiredCallback | None, user_data: object = None
    ) -> None:
        """Register ``cb(user_data)``, called when the UserSig expires while logged in (the
        session ends), or when a login is refused because it expired (the login callback then
        gets 70001); log in again with a new sig. None unregisters."""
        check_listener(cb)
        with self._lock:
            self._sig_expired_cb = None if cb is None else (cb, user_data)

    def TIMSetNetworkStatusListenerCallback(
        self, cb: TIMNetworkStatusListenerCallback | None, user_data: object = None
    ) -> None:
        """Register ``cb(status, code, desc, user_data)`` for the link to the server
        (TIMNetworkStatus: connected, disconnected, connecting, connect failed); None
        unregisters."""
        check_listener(cb)
        with self._lock:
            self._network_cb = None if cb is None else (cb, user_data)

    def TIMGetLoginStatus(self) -> int:
        """The login status (TIMLoginStatus): ``kTIMLoginStatus_UnLogined`` before ``TIMInit``."""
        return int(self._status)

    @tim_call
    def TIMGetLoginUserID(self, user_id_buffer: bytearray | None) -> int:
        """Write the logged-in user's id, UTF-8 and NUL-terminated, into ``user_id_buffer``.

        Returns:
            TIM_SUCC; TIM_ERR_SDKUNINIT, TIM_ERR_NOTLOGIN, or TIM_ERR_PARAM when the buffer is
            neither None nor a bytearray.
        """
        self._require(login=True)
        buffer = check_buffer(user_id_buffer, "user_id_buffer")
        with self._lock:
            user = self._login_user
        fill_buffer(buffer, user)
        return int(TIMResult.TIM_SUCC)

    # --- version, server time, configuration, log ------------------------------------------
    def TIMGetSDKVersion(self) -> str:
        """The SDK version: that of Tencent's SDK whose interface opentim reproduces
        (``SDK_VERSION``). Callable at any time."""
        return SDK_VERSION

    def TIMGetServerTime(self) -> int:
        """The server's current time, UTC seconds: this device's clock corrected by the offset
        the server's time at the last login gave; before any login, this device's clock."""
        with self._lock:
            client, runtime = self._client, self._runtime
        if client is None or runtime is None or not client.server_time_offset:
            return int(time.time())
        return max(0, int(runtime.loop_time() + client.server_time_offset))

    @tim_call
    def TIMSetConfig(
        self, json_config: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Configure the SDK (a SetConfig object); the callback gets ``""``.

        ``set_config_log_level`` is the level opentim logs at (the ``opentim`` logger's level);
        ``set_config_callback_log_level`` the lowest level ``TIMSetLogCallback``'s callback gets
        (Off: none). The other keys (console output, user config, user data, HTTP/SOCKS5/PAC
        proxies, local DNS) are accepted, checked and kept; opentim's connection does not use
        them. No login needed.

        Returns:
            TIM_SUCC; TIM_ERR_SDKUNINIT before ``TIMInit``; TIM_ERR_JSON when ``json_config`` is
            not a JSON object; TIM_ERR_PARAM for a known key of the wrong type, a log level that
            is not a TIMLogLevel, or no callback.
        """
        client = self._require(login=False)
        config = parse_json(json_config, dict, "json_config")
        assert config is not None
        check_section(config, "SetConfig")
        user_config = config.get(k.SET_CONFIG_USER_CONFIG)
        if isinstance(user_config, dict):
            check_section(user_config, "UserConfig")
        for key in LOG_LEVEL_KEYS:
            if config.get(key) is not None and config[key] not in set(k.TIMLogLevel):
                raise param_error(f"{key} {config[key]} is not a TIMLogLevel")
        callback = need_callback(cb)
        accepted = {
            key: value for key, value in config.items() if key in k.SECTION_KEYS["SetConfig"]
        }
        with self._lock:
            self._config.update(accepted)
        if config.get(k.SET_CONFIG_LOG_LEVEL) is not None:
            logging.getLogger(LOGGER).setLevel(python_level(config[k.SET_CONFIG_LOG_LEVEL]))
        self._apply_log_levels()

        async def work() -> str:
            log.info("TIMSetConfig: %s", ", ".join(sorted(accepted)) or "nothing")
            return ""

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    def TIMSetLogCallback(self, cb: TIMLogCallback | None, user_data: object = None) -> None:
        """Register ``cb(level, log, user_data)``: each line opentim logs (for this instance, on
        its SDK thread) at or above ``set_config_callback_log_level`` and the ``opentim``
        logger's level (``set_config_log_level``; by default Python's, WARNING); None
        unregisters."""
        check_listener(cb)
        with self._lock:
            self._log_cb = None if cb is None else (cb, user_data)
            handler = self._log_handler()
        root = logging.getLogger(LOGGER)
        if cb is None:
            root.removeHandler(handler)
        else:
            self._apply_log_levels()
            root.addHandler(handler)

    def _log_handler(self) -> CallbackLogHandler:
        """This instance's handler on the ``opentim`` logger (made once)."""
        handler = self._callback_log_handler
        if handler is None:
            me = weakref.ref(self)

            def target() -> tuple[Any, SdkThread | None]:
                sdk = me()
                return (None, None) if sdk is None else (sdk._log_cb, sdk._runtime)

            handler = CallbackLogHandler(target)
            self._callback_log_handler = handler
        return handler

    def _apply_log_levels(self) -> None:
        level = self._config.get(k.SET_CONFIG_CALLBACK_LOG_LEVEL)
        self._log_handler().setLevel(logging.NOTSET if level is None else python_level(level))
