"""opentim's errors: one root, ``OpenTimError``, every error carrying a TIM code and a reason.

The whole tree (each part defined where it is raised; ``protocol`` imports nothing else of
opentim, the other packages subclass this root)::

    OpenTimError(code, desc)                 every opentim error
     ├── OpenTimProtocolError                the wire protocol (this module)
     │    ├── LocalProtocolError             our own caller tried something the protocol forbids
     │    └── RemoteProtocolError            the peer sent something the protocol forbids
     │         ├── FrameTooBigError          a frame over the size limit
     │         └── ProxyHeaderError          opentim.server.gateway: a malformed PROXY header
     ├── CustomFieldError                    protocol.rules.users: a custom profile field change
     │                                       that breaks a rule (40009, 40601)
     ├── SdkError                            opentim.sdk: a failed SDK call (the server's code,
     │    └── ConnectionLostError            or the SDK's own); 9508: the connection is gone
     ├── CallRefusedError                    opentim.tim: a call refused synchronously; its
     │                                       code is the TIMResult the call returns
     ├── ServerUrlError                      opentim.tim: opentim.json does not name a server
     ├── ServiceError                        opentim.server.services: a request the rules refuse
     │    ├── ConvNotFoundError              6004
     │    ├── NotMemberError                 10007
     │    └── GroupNotFoundError             10010
     ├── StoreError                          opentim.server.store: 7010 (database failure)
     │    ├── DuplicateGroupError
     │    ├── DuplicateConvGroupError
     │    └── StoreUnavailableError
     ├── BusUnavailableError                 opentim.server.bus: 20005 (pushes cannot be carried)
     ├── ConfigError                         opentim.server.config: 6017, a setting that cannot work
     └── MissingExtraError                   opentim.extras: 7013, a feature whose extra is missing

Codes become what each boundary speaks in one function per boundary: the gateway's
``error_frame`` (any exception → an error frame), the SDK's ``error_of`` (an error frame →
``SdkError``), the TIM runtime's ``callback_error`` (any exception → the callback's code and
description) and ``tim_call`` (``CallRefusedError`` → the call's return value).
"""

from __future__ import annotations

from typing import Any, ClassVar

from .codes import ErrorCode


class OpenTimError(Exception):
    """Root of every opentim error: ``code`` is a TIM code (``ErrorCode``, or ``TIMResult`` for
    a refused call), ``desc`` says why."""

    code: int
    desc: str

    show_code: ClassVar[bool] = True
    """Whether ``str()`` starts with the code; off for errors an operator reads (a setting, an
    unreachable database), whose text is a whole sentence."""

    def __init__(self, code: int, desc: str) -> None:
        super().__init__(code, desc)
        self.code = code
        self.desc = desc

    def __str__(self) -> str:
        return f"{int(self.code)}: {self.desc}" if self.show_code else self.desc

    def __reduce__(self) -> tuple[Any, ...]:
        # Subclasses take other constructor arguments than (code, desc): copy and pickle
        # rebuild from the attributes instead of calling the constructor again.
        return _rebuild, (type(self), self.__dict__.copy())


def _rebuild(cls: type[OpenTimError], state: dict[str, Any]) -> OpenTimError:
    error = cls.__new__(cls)
    Exception.__init__(error, state["code"], state["desc"])
    error.__dict__.update(state)
    return error


class OpenTimProtocolError(OpenTimError):
    """Root of every protocol error: ``code`` is the ErrorCode to report back to the peer
    (h11's error_status_hint)."""

    code: ErrorCode

    def __init__(self, code: ErrorCode, desc: str) -> None:
        super().__init__(code, desc)


class LocalProtocolError(OpenTimProtocolError):
    """Our caller tried to send something illegal."""


class RemoteProtocolError(OpenTimProtocolError):
    """The peer sent something illegal."""


class FrameTooBigError(RemoteProtocolError):
    """A frame exceeded the size limit."""
