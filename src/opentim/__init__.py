"""opentim: a self-hosted IM server and SDK with the TIM conversation API."""

__version__ = "0.1.0"
