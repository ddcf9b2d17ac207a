"""The optional parts of opentim and the packages each needs (pyproject's extras).

``pip install opentim`` brings the SDK and the TIM layer alone; the server and its backends come
as extras. A command that needs an extra checks it first and says in one line what to install.
"""

from __future__ import annotations

import importlib

from opentim.protocol import ErrorCode, OpenTimError

EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "server": ("pydantic_settings", "rich"),
    "postgres": ("asyncpg",),
    "redis": ("redis",),
    "nats": ("nats",),
    "capi": ("cffi", "setuptools"),
}
"""The importable modules each extra installs (pyproject.toml lists the distributions)."""


class MissingExtraError(OpenTimError):
    """A feature was asked for whose extra is not installed; the message says what to run."""

    show_code = False

    def __init__(self, desc: str) -> None:
        super().__init__(ErrorCode.ERR_SDK_INTERFACE_NOT_SUPPORT, desc)


def require_extra(extra: str, feature: str) -> None:
    """Import the modules ``extra`` brings, or raise.

    Raises:
        MissingExtraError: one of them cannot be imported; the message names ``feature``, the
            missing module and the pip command installing the extra.
    """
    for module in EXTRA_MODULES[extra]:
        try:
            importlib.import_module(module)
        except ImportError:
            raise MissingExtraError(
                f"{feature} needs the {extra} extra ({module} is not installed):"
                f" pip install 'opentim[{extra}]'"
            ) from None
