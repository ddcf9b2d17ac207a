"""TIMInit, TIMUninit, TIMLogin, TIMLogout, TIMGetLoginStatus, TIMGetLoginUserID.

``TIMInit`` starts the instance's SDK thread and makes its client; ``TIMUninit`` stops both.
The device id lives in ``sdk_config_config_file_path`` (DESIGN §2: the same path is the same
device, and a second login of one user from one device replaces the first).
"""

from __future__ import annotations

import atexit
import itertools
import os
import secrets
import shutil
import tempfile
import threading
from pathlib import Path

from opentim.protocol import ErrorCode, TIMResult
from opentim.sdk import Client, SdkError

from . import keys as k
from .convert import (
    CallRefusedError,
    check_buffer,
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
from .runtime import CallKind, SdkThread, TIMCommCallback, deliver

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
            runtime = SdkThread(f"opentim-sdk-{next(_instance_numbers)}")
            client = Client(url, app_id, device_id=device_id, data_dir=directory, ca_file=ca_file)
            self._wire(client)
            runtime.start()
            self._runtime, self._client = runtime, client
            self._status = k.kTIMLoginStatus_UnLogined
            self._login_user = ""
            self._total_unread_armed = False
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
            except SdkError as exc:
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
