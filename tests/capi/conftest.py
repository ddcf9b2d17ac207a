"""The C library's fixtures and summary line (defined in ``support``)."""

from .support import libimsdk, pytest_terminal_summary, served

__all__ = ["libimsdk", "pytest_terminal_summary", "served"]
