"""opentim: a self-hosted IM server and SDK with the TIM conversation API."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "usersig"]


def usersig(
    user_id: str,
    *,
    secret_key: str,
    sdkappid: int | None = None,
    expire: int | None = None,
    now: int | None = None,
) -> str:
    """Mint a UserSig (Tencent's TLSSigAPIv2 format) that logs ``user_id`` in.

    In production this runs on the app's backend, which holds the secret key and hands sigs to
    its logged-in users; the key never ships in a client.

    Args:
        user_id: the user the sig is for.
        secret_key: the server's key (``opentim serve --secret-key``, ``OPENTIM_SECRET_KEY``, or
            the ``secret_key`` file the server creates in its data directory).
        sdkappid: the app id the server serves (default 1400000000, as the server's).
        expire: seconds the sig stays valid (default 180 days).
        now: the issue time in unix seconds (default: now).
    """
    # Imported here so that ``import opentim`` stays light for code that never mints a sig.
    import time

    from opentim.protocol.usersig import DEFAULT_EXPIRE, DEFAULT_SDKAPPID, make_usersig

    return make_usersig(
        secret_key,
        DEFAULT_SDKAPPID if sdkappid is None else sdkappid,
        user_id,
        int(time.time()) if now is None else now,
        DEFAULT_EXPIRE if expire is None else expire,
    )
